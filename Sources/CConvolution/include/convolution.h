#ifndef DELINEATE_CONVOLUTION_H
#define DELINEATE_CONVOLUTION_H

#include <stddef.h>

/// Output channels per block of packed weights (one AVX-512 tile, two AVX2 tiles).
#define DL_CONV_BLOCK_CHANNELS 8
/// The largest kernel side the direct kernel runs (larger kernels need another method).
#define DL_CONV_MAX_KERNEL 11
/// Vectors of output pixels per register tile.
#define DL_CONV_TILE_VECTORS 3

/// The geometry of one direct convolution (square kernel, same stride, padding and dilation in
/// both axes) over an input whose channels may come from several tensors.
typedef struct {
    int channels, height, width;
    int kernel, stride, padding, dilation;
    int out_channels, out_height, out_width;
    /// The instruction set: 2 = AVX-512, 1 = AVX2 + FMA; at most `dl_conv_level()`.
    int level;
} dl_conv_shape;

/// The best instruction set this CPU offers the kernel: 2 = AVX-512 (F and VL), 1 = AVX2 + FMA,
/// 0 = neither (callers fall back to another method).
int dl_conv_level(void);

/// Floats the packed weights take: output channels rounded up to whole blocks.
size_t dl_conv_packed_weights_count(int out_channels, int in_channels, int kernel);

/// Packs weights [out][in][k][k] as [block][in·k·k][DL_CONV_BLOCK_CHANNELS], zero-padded.
void dl_conv_pack_weights(const float *weights, int out_channels, int in_channels, int kernel, float *packed);

/// Floats of the padded, stride-phase input buffer `dl_conv_prepare_input` writes.
size_t dl_conv_padded_input_count(const dl_conv_shape *shape);

/// Whether the kernel reads this convolution's input in place, channel plane by channel plane,
/// with masked loads for the borders (AVX-512, stride 1, same-size output, rows of whole
/// 16-pixel vectors, kernels up to 5x5), so that no padded copy is needed.
int dl_conv_reads_in_place(const dl_conv_shape *shape);

/// Vectors of output pixels: ceil(out_width / lanes) per output row, with 16 lanes on AVX-512 for
/// rows wider than 8 pixels, else 8.
int dl_conv_vector_count(const dl_conv_shape *shape);

/// Copies channels [channel_begin, channel_end) of one image, from `source_count` NCHW sources
/// concatenated in order, into the zero-padded buffer the kernel reads, each row split into
/// `stride` column phases so every kernel tap reads consecutive floats. Writes every float of
/// those channels' planes.
void dl_conv_prepare_input(
    const dl_conv_shape *shape, const float *const *sources, const int *source_channels, int source_count,
    int channel_begin, int channel_end, float *padded);

/// Computes output pixel vectors [vector_begin, vector_end) of output channel blocks
/// [block_begin, block_end) for one image: bias, then `residual` (same layout as the output, or
/// NULL) added, then ReLU when `relu` is nonzero. The input is either `padded` (filled by
/// `dl_conv_prepare_input`) or, where `dl_conv_reads_in_place`, `planes`: one pointer per input
/// channel to its height x width plane (then `padded` is unused).
void dl_conv_run(
    const dl_conv_shape *shape, const float *padded, const float *const *planes, const float *packed_weights,
    const float *bias, const float *residual, int relu, float *output, int vector_begin, int vector_end,
    int block_begin, int block_end);

// Winograd F(2x2, 3x3), AVX-512 only, for 3x3 kernels with stride 1, padding 1 and dilation 1
// (`ConvolutionMethod.resolved(for:)` in Swift chooses it by geometry).

/// Floats the Winograd weights take: 16 transformed positions x output channel blocks x inputs.
size_t dl_winograd_weights_count(int out_channels, int in_channels);

/// Transforms weights [out][in][3][3] (U = G g Gᵀ) into [position][block][in][DL_CONV_BLOCK_CHANNELS].
void dl_winograd_pack_weights(const float *weights, int out_channels, int in_channels, float *packed);

/// The blocks of 2x2 output tiles one image is computed in.
int dl_winograd_block_count(const dl_conv_shape *shape);

/// Floats of one tile block's transformed input (`dl_winograd_transform_input`).
size_t dl_winograd_input_count(const dl_conv_shape *shape);

/// Floats of the products scratch of one `dl_winograd_multiply` call over `blocks` channel blocks.
size_t dl_winograd_products_count(const dl_conv_shape *shape, int blocks);

/// Transforms input channels [channel_begin, channel_end) of tile block `tile_block` of one image
/// into `input` (`dl_winograd_input_count` floats, shared by the calls for the block's channel
/// ranges), reading them in place from `planes`: one pointer per input channel to its height x
/// width plane.
void dl_winograd_transform_input(
    const dl_conv_shape *shape, const float *const *planes, int tile_block, int channel_begin, int channel_end,
    float *input);

/// Computes tile block `tile_block` of output channel blocks [block_begin, block_end) for one
/// image from its transformed input: bias, then `residual` (same layout as the output, or NULL)
/// added, then ReLU when `relu` is nonzero. `products` is this call's scratch.
void dl_winograd_multiply(
    const dl_conv_shape *shape, const float *input, const float *packed_weights, const float *bias,
    const float *residual, int relu, float *output, int tile_block, int block_begin, int block_end,
    float *products);

/// The ConvLSTM update of one image at positions [begin, end): with `gates` the planes i, f, g, o
/// (each `area` floats), c' = σ(f)·c + σ(i)·tanh(g) into `cell` and h' = σ(o)·tanh(c') into `hidden`,
/// vectorised for instruction-set `level` (as `dl_conv_level`, at most it).
void dl_lstm_update(
    const float *gates, size_t area, const float *previous_cell, float *cell, float *hidden, size_t begin,
    size_t end, int level);

/// Softmax down every column of the row-major matrix [rows, columns] whose rows lie `stride` floats
/// apart, in place; `maxima` and `sums` are scratch of `columns` floats each. Vectorised for
/// instruction-set `level` (as `dl_conv_level`, at most it). Probabilities below FLT_MIN become 0:
/// a denormal in the memory read's matrix slows the sgemm that reads it a hundredfold on Intel
/// cores (microcode assists), and it weighs nothing.
void dl_softmax_columns(
    float *matrix, size_t rows, size_t columns, size_t stride, float *maxima, float *sums, int level);

/// A spin-wait hint to the CPU (PAUSE), for the engine's worker threads.
static inline void dl_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#endif
