// A direct convolution for x86-64 with AVX-512 or AVX2 + FMA: no im2col matrix. Stride-1,
// same-size convolutions on AVX-512 read each input channel's plane in place, with masked loads at
// the borders; the others read a copy in a zero-padded buffer whose rows are split into `stride`
// column phases, so every kernel tap of a vector of neighbouring output pixels is consecutive
// floats. A register tile of output channels x 3 pixel vectors accumulates over every (input
// channel, tap) with broadcast weights, and the epilogue adds the bias, an optional residual and
// ReLU before the only store. AVX-512 tiles are 8 channels x 48 pixels (24 accumulators of 32
// registers), or 8 channels x 24 pixels for rows of at most 8 pixels; AVX2 tiles are 4 channels x
// 24 pixels (12 of 16).

#include "convolution.h"
#include "lanes.h"

#include <immintrin.h>
#include <string.h>

#define BLOCK DL_CONV_BLOCK_CHANNELS
#define TILE DL_CONV_TILE_VECTORS
/// Tiles that share one pass over every output channel block (their input stays in cache).
#define TILES_PER_CHUNK 16
/// The largest kernel the tap table holds (k·k taps).
#define MAX_TAPS (DL_CONV_MAX_KERNEL * DL_CONV_MAX_KERNEL)

int dl_conv_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return 2;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

/// Output pixels per vector for this shape: 16 with AVX-512 unless rows are 8 pixels or fewer.
static int lanes_for(const dl_conv_shape *shape) { return shape->level == 2 && shape->out_width > 8 ? 16 : 8; }

size_t dl_conv_packed_weights_count(int out_channels, int in_channels, int kernel) {
    size_t blocks = (size_t)(out_channels + BLOCK - 1) / BLOCK;
    return blocks * (size_t)in_channels * (size_t)(kernel * kernel) * BLOCK;
}

void dl_conv_pack_weights(const float *weights, int out_channels, int in_channels, int kernel, float *packed) {
    size_t depth = (size_t)in_channels * (size_t)(kernel * kernel);
    int blocks = (out_channels + BLOCK - 1) / BLOCK;
    for (int block = 0; block < blocks; block++) {
        float *target = packed + (size_t)block * depth * BLOCK;
        for (size_t index = 0; index < depth; index++) {
            for (int lane = 0; lane < BLOCK; lane++) {
                int channel = block * BLOCK + lane;
                target[index * BLOCK + lane] = channel < out_channels ? weights[(size_t)channel * depth + index] : 0;
            }
        }
    }
}

int dl_conv_vector_count(const dl_conv_shape *shape) {
    int lanes = lanes_for(shape);
    return shape->out_height * ((shape->out_width + lanes - 1) / lanes);
}

/// The padded buffer's extents: rows, the length of one phase row, a padded row (all phases) and
/// one channel's plane.
typedef struct {
    int lanes, vectors_per_row, rows, phase_length;
    size_t row_stride, plane;
} padded_layout;

static padded_layout layout_of(const dl_conv_shape *shape) {
    int reach = (shape->kernel - 1) * shape->dilation;
    padded_layout layout;
    layout.lanes = lanes_for(shape);
    layout.vectors_per_row = (shape->out_width + layout.lanes - 1) / layout.lanes;
    layout.rows = shape->stride * (shape->out_height - 1) + reach + 1;
    // Whole vectors of the row copy (16 floats with AVX-512 even where the kernel's vectors are 8,
    // 8 with AVX2), so that rows are copied without masked stores and never past the buffer.
    int needed = layout.vectors_per_row * layout.lanes + reach / shape->stride;
    int copied = shape->level == 2 ? 16 : 8;
    layout.phase_length = (needed + copied - 1) / copied * copied;
    layout.row_stride = (size_t)shape->stride * (size_t)layout.phase_length;
    layout.plane = (size_t)layout.rows * layout.row_stride;
    return layout;
}

/// The largest kernel the in-place path's per-tile tables hold (k·k taps).
#define MAX_TAPS_IN_PLACE 25

int dl_conv_reads_in_place(const dl_conv_shape *shape) {
    return shape->level == 2 && shape->stride == 1 && lanes_for(shape) == 16 && shape->width % 16 == 0 &&
           shape->out_width == shape->width && shape->out_height == shape->height &&
           shape->kernel * shape->kernel <= MAX_TAPS_IN_PLACE;
}

size_t dl_conv_padded_input_count(const dl_conv_shape *shape) {
    return (size_t)shape->channels * layout_of(shape).plane;
}

/// Writes one padded phase row (`length` a multiple of 16): target[j] = line[j·stride + offset]
/// where that column lies inside [0, width), else 0; 16 floats at a time with masked loads (lanes
/// outside the row are neither read nor kept) and, for stride 2, a permutation that keeps every
/// second column.
__attribute__((target("avx512f"), always_inline)) static inline void copy_row16(
    float *target, int length, const float *line, int offset, int width, int stride) {
    const __m512i even = EVEN_FLOATS;
    for (int j = 0; j < length; j += 16) {
        int first = j * stride + offset;
        __m512 values = _mm512_maskz_loadu_ps(inside16(first, width), line + first);
        if (stride == 2) {
            __m512 next = _mm512_maskz_loadu_ps(inside16(first + 16, width), line + first + 16);
            values = _mm512_permutex2var_ps(values, even, next);
        }
        _mm512_storeu_ps(target + j, values);
    }
}

/// The same for AVX2 and stride 1 (`length` a multiple of 8).
__attribute__((target("avx2,fma"), always_inline)) static inline void copy_row8(
    float *target, int length, const float *line, int offset, int width) {
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int j = 0; j < length; j += 8) {
        __m256i columns = _mm256_add_epi32(_mm256_set1_epi32(j + offset), lanes);
        __m256i inside = _mm256_andnot_si256(
            _mm256_cmpgt_epi32(_mm256_setzero_si256(), columns), _mm256_cmpgt_epi32(_mm256_set1_epi32(width), columns));
        _mm256_storeu_ps(target + j, _mm256_maskload_ps(line + j + offset, inside));
    }
}

/// Any other row, one float at a time.
static inline void copy_row_scalar(float *target, int length, const float *line, int offset, int width, int stride) {
    for (int j = 0; j < length; j++) {
        int column = j * stride + offset;
        target[j] = column >= 0 && column < width ? line[column] : 0;
    }
}

/// Every row of one channel's plane; `copy` is one of the row copies above, inlined.
#define COPY_PLANE(copy, ...)                                                                        \
    for (int y = 0; y < layout.rows; y++) {                                                          \
        float *row = plane + (size_t)y * layout.row_stride;                                          \
        int source_row = y - shape->padding;                                                         \
        if (source_row < 0 || source_row >= shape->height) {                                         \
            memset(row, 0, sizeof(float) * layout.row_stride);                                       \
            continue;                                                                                \
        }                                                                                            \
        const float *line = image + (size_t)source_row * shape->width;                               \
        for (int phase = 0; phase < shape->stride; phase++) {                                        \
            copy(row + (size_t)phase * layout.phase_length, layout.phase_length, line,               \
                 phase - shape->padding, shape->width, ##__VA_ARGS__);                               \
        }                                                                                            \
    }

__attribute__((target("avx512f"))) static void copy_plane16(
    const dl_conv_shape *shape, padded_layout layout, const float *image, float *plane) {
    if (shape->stride == 1) {
        COPY_PLANE(copy_row16, 1)
    } else {
        COPY_PLANE(copy_row16, 2)
    }
}

__attribute__((target("avx2,fma"))) static void copy_plane8(
    const dl_conv_shape *shape, padded_layout layout, const float *image, float *plane) {
    COPY_PLANE(copy_row8)
}

static void copy_plane(const dl_conv_shape *shape, padded_layout layout, const float *image, float *plane) {
    if (shape->level == 2 && shape->stride <= 2) return copy_plane16(shape, layout, image, plane);
    if (shape->level == 1 && shape->stride == 1) return copy_plane8(shape, layout, image, plane);
    COPY_PLANE(copy_row_scalar, shape->stride)
}

void dl_conv_prepare_input(
    const dl_conv_shape *shape, const float *const *sources, const int *source_channels, int source_count,
    int channel_begin, int channel_end, float *padded) {
    padded_layout layout = layout_of(shape);
    int first_of_source = 0;
    for (int source = 0; source < source_count; first_of_source += source_channels[source++]) {
        for (int channel = 0; channel < source_channels[source]; channel++) {
            int index = first_of_source + channel;
            if (index < channel_begin || index >= channel_end) continue;
            const float *image = sources[source] + (size_t)channel * shape->height * shape->width;
            copy_plane(shape, layout, image, padded + (size_t)index * layout.plane);
        }
    }
}

/// Where one vector of output pixels starts: in the padded input (before the tap offset) and in an
/// output channel's plane, and how many of its lanes are real pixels.
typedef struct {
    size_t input, output;
    int row, column, lanes;
} pixel_vector;

/// Where each tap of one pixel vector reads when the input is read in place, and its lanes.
typedef struct {
    int offsets[MAX_TAPS_IN_PLACE];
    __mmask16 masks[MAX_TAPS_IN_PLACE];
} vector_taps;

static pixel_vector vector_at(const dl_conv_shape *shape, padded_layout layout, int index) {
    int row = index / layout.vectors_per_row, column = (index % layout.vectors_per_row) * layout.lanes;
    pixel_vector vector;
    vector.input = (size_t)shape->stride * (size_t)row * layout.row_stride + (size_t)column;
    vector.output = (size_t)row * shape->out_width + (size_t)column;
    vector.row = row;
    vector.column = column;
    int lanes = shape->out_width - column;
    vector.lanes = lanes < layout.lanes ? lanes : layout.lanes;
    return vector;
}

/// What every tile of one call shares.
typedef struct {
    const dl_conv_shape *shape;
    padded_layout layout;
    const float *padded;
    /// Each input channel's plane when the input is read in place (else NULL).
    const float *const *planes;
    const int *taps;
    int tap_count;
    const float *bias, *residual;
    int relu;
    float *output;
    size_t out_plane;
} tile_context;

/// Adds the bias, the residual and ReLU to 8 accumulated pixels and stores the real ones.
__attribute__((target("avx2,fma"))) static inline void store8(
    const tile_context *context, __m256 sum, int channel, pixel_vector vector) {
    size_t at = (size_t)channel * context->out_plane + vector.output;
    __m256 value = _mm256_add_ps(sum, _mm256_set1_ps(context->bias[channel]));
    if (vector.lanes == 8) {
        if (context->residual) value = _mm256_add_ps(value, _mm256_loadu_ps(context->residual + at));
        if (context->relu) value = _mm256_max_ps(value, _mm256_setzero_ps());
        _mm256_storeu_ps(context->output + at, value);
        return;
    }
    // A row's last partial vector, one float at a time (AMD's masked stores are slow).
    float lanes[8];
    _mm256_storeu_ps(lanes, value);
    for (int lane = 0; lane < vector.lanes; lane++) {
        float result = lanes[lane] + (context->residual ? context->residual[at + lane] : 0);
        context->output[at + lane] = context->relu && result < 0 ? 0 : result;
    }
}

/// The epilogue of a tile: `store` (store8 or store16) each real vector of the first `channels`
/// output channels' accumulators a<channel><vector>.
#define STORE_TILE(vector_type, store, channels)                                                     \
    do {                                                                                             \
        vector_type sums[BLOCK][TILE] = {                                                            \
            {a00, a01, a02}, {a10, a11, a12}, {a20, a21, a22}, {a30, a31, a32},                      \
            {a40, a41, a42}, {a50, a51, a52}, {a60, a61, a62}, {a70, a71, a72}};                     \
        for (int r = 0; r < (channels) && first_channel + r < context->shape->out_channels; r++)     \
            for (int v = 0; v < count; v++) store(context, sums[r][v], first_channel + r, vectors[v]); \
    } while (0)

/// Declares the three accumulators of output channel r.
#define ACCUMULATORS8(r) __m256 a##r##0 = _mm256_setzero_ps(), a##r##1 = a##r##0, a##r##2 = a##r##0
/// Channel r's weight times the three pixel vectors.
#define MULTIPLY_ADD8(r)                                 \
    do {                                                 \
        __m256 weight = _mm256_broadcast_ss(w + r);      \
        a##r##0 = _mm256_fmadd_ps(weight, x0, a##r##0);  \
        a##r##1 = _mm256_fmadd_ps(weight, x1, a##r##1);  \
        a##r##2 = _mm256_fmadd_ps(weight, x2, a##r##2);  \
    } while (0)

/// 4 or 8 (`channels`, a constant once inlined) output channels x 3 vectors of 8 pixels; the
/// accumulators are named so that they stay in registers: 12 of AVX2's 16, or 24 of AVX-512's 32
/// when inlined into a caller built for AVX-512VL. `w` points at the first channel's weight in
/// each group of BLOCK.
__attribute__((target("avx2,fma"), always_inline)) static inline void tile8(
    const tile_context *context, int tap_count, int channels, const float *w, int first_channel,
    const pixel_vector *vectors, int count) {
    ACCUMULATORS8(0); ACCUMULATORS8(1); ACCUMULATORS8(2); ACCUMULATORS8(3);
    ACCUMULATORS8(4); ACCUMULATORS8(5); ACCUMULATORS8(6); ACCUMULATORS8(7);
    // Missing vectors of a partial tile repeat the first one; they are never stored.
    const float *base0 = context->padded + vectors[0].input;
    const float *base1 = context->padded + vectors[count > 1 ? 1 : 0].input;
    const float *base2 = context->padded + vectors[count > 2 ? 2 : 0].input;
    for (int channel = 0; channel < context->shape->channels; channel++) {
        size_t plane = (size_t)channel * context->layout.plane;
        const float *p0 = base0 + plane, *p1 = base1 + plane, *p2 = base2 + plane;
        for (int t = 0; t < tap_count; t++, w += BLOCK) {
            int offset = context->taps[t];
            __m256 x0 = _mm256_loadu_ps(p0 + offset), x1 = _mm256_loadu_ps(p1 + offset);
            __m256 x2 = _mm256_loadu_ps(p2 + offset);
            MULTIPLY_ADD8(0); MULTIPLY_ADD8(1); MULTIPLY_ADD8(2); MULTIPLY_ADD8(3);
            if (channels == 8) {
                MULTIPLY_ADD8(4); MULTIPLY_ADD8(5); MULTIPLY_ADD8(6); MULTIPLY_ADD8(7);
            }
        }
    }
    STORE_TILE(__m256, store8, channels);
}

/// One AVX2 tile of a whole block: its two halves of 4 channels.
__attribute__((target("avx2,fma"))) static void block8(
    const tile_context *context, const float *weights, int first_channel, const pixel_vector *vectors, int count) {
    for (int half = 0; half < BLOCK && first_channel + half < context->shape->out_channels; half += 4) {
        if (context->tap_count == 9)
            tile8(context, 9, 4, weights + half, first_channel + half, vectors, count);
        else if (context->tap_count == 1)
            tile8(context, 1, 4, weights + half, first_channel + half, vectors, count);
        else
            tile8(context, context->tap_count, 4, weights + half, first_channel + half, vectors, count);
    }
}

/// One tile of a whole block of 8 channels of 8-pixel vectors, with AVX-512VL's 32 registers.
__attribute__((target("avx512f,avx512vl,avx2,fma"))) static void block8_wide(
    const tile_context *context, const float *weights, int first_channel, const pixel_vector *vectors, int count) {
    if (context->tap_count == 9)
        tile8(context, 9, 8, weights, first_channel, vectors, count);
    else if (context->tap_count == 1)
        tile8(context, 1, 8, weights, first_channel, vectors, count);
    else
        tile8(context, context->tap_count, 8, weights, first_channel, vectors, count);
}

/// Adds the bias, the residual and ReLU to 16 accumulated pixels and stores the real ones.
__attribute__((target("avx512f"))) static inline void store16(
    const tile_context *context, __m512 sum, int channel, pixel_vector vector) {
    size_t at = (size_t)channel * context->out_plane + vector.output;
    __mmask16 mask = (__mmask16)((1u << vector.lanes) - 1);
    __m512 value = _mm512_add_ps(sum, _mm512_set1_ps(context->bias[channel]));
    if (context->residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, context->residual + at));
    if (context->relu) value = _mm512_max_ps(value, _mm512_setzero_ps());
    _mm512_mask_storeu_ps(context->output + at, mask, value);
}

/// Declares the three accumulators of output channel r.
#define ACCUMULATORS16(r) __m512 a##r##0 = _mm512_setzero_ps(), a##r##1 = a##r##0, a##r##2 = a##r##0
/// Channel r's weight times the three pixel vectors.
#define MULTIPLY_ADD16(r)                                \
    do {                                                 \
        __m512 weight = _mm512_set1_ps(w[r]);            \
        a##r##0 = _mm512_fmadd_ps(weight, x0, a##r##0);  \
        a##r##1 = _mm512_fmadd_ps(weight, x1, a##r##1);  \
        a##r##2 = _mm512_fmadd_ps(weight, x2, a##r##2);  \
    } while (0)

/// Where each tap of one pixel vector reads an unpadded plane, and which lanes lie inside it
/// (none for rows above or below the image: those taps add zeros, as padding would).
__attribute__((target("avx512f"))) static void in_place_taps(
    const dl_conv_shape *shape, pixel_vector vector, vector_taps *taps) {
    int k = shape->kernel, reach = shape->dilation, padding = shape->padding;
    for (int ky = 0; ky < k; ky++) {
        int y = vector.row + ky * reach - padding;
        for (int kx = 0; kx < k; kx++) {
            int x = vector.column + kx * reach - padding, t = ky * k + kx;
            int inside = y >= 0 && y < shape->height;
            taps->offsets[t] = inside ? y * shape->width + x : 0;
            taps->masks[t] = inside ? inside16(x, shape->width) : 0;
        }
    }
}

/// AVX-512: 8 output channels x 3 vectors of 16 pixels; the 24 accumulators are named so that
/// they stay in registers. Inlined with a constant tap count and a constant `in_place`: the input
/// is then read from the unpadded planes, where `taps` (one per vector) says, with masked loads
/// instead of the padded copy.
__attribute__((target("avx512f"), always_inline)) static inline void tile16(
    const tile_context *context, int tap_count, int in_place, const float *w, int first_channel,
    const pixel_vector *vectors, const vector_taps *taps, int count) {
    ACCUMULATORS16(0); ACCUMULATORS16(1); ACCUMULATORS16(2); ACCUMULATORS16(3);
    ACCUMULATORS16(4); ACCUMULATORS16(5); ACCUMULATORS16(6); ACCUMULATORS16(7);
    // Missing vectors of a partial tile repeat the first one; they are never stored.
    const pixel_vector *v0 = vectors, *v1 = vectors + (count > 1 ? 1 : 0), *v2 = vectors + (count > 2 ? 2 : 0);
    if (in_place) {
        const vector_taps *t0 = taps + (v0 - vectors), *t1 = taps + (v1 - vectors), *t2 = taps + (v2 - vectors);
        for (int channel = 0; channel < context->shape->channels; channel++) {
            const float *plane = context->planes[channel];
            for (int t = 0; t < tap_count; t++, w += BLOCK) {
                __m512 x0 = _mm512_maskz_loadu_ps(t0->masks[t], plane + t0->offsets[t]);
                __m512 x1 = _mm512_maskz_loadu_ps(t1->masks[t], plane + t1->offsets[t]);
                __m512 x2 = _mm512_maskz_loadu_ps(t2->masks[t], plane + t2->offsets[t]);
                MULTIPLY_ADD16(0); MULTIPLY_ADD16(1); MULTIPLY_ADD16(2); MULTIPLY_ADD16(3);
                MULTIPLY_ADD16(4); MULTIPLY_ADD16(5); MULTIPLY_ADD16(6); MULTIPLY_ADD16(7);
            }
        }
    } else {
        const float *base0 = context->padded + v0->input, *base1 = context->padded + v1->input;
        const float *base2 = context->padded + v2->input;
        for (int channel = 0; channel < context->shape->channels; channel++) {
            size_t plane = (size_t)channel * context->layout.plane;
            const float *p0 = base0 + plane, *p1 = base1 + plane, *p2 = base2 + plane;
            for (int t = 0; t < tap_count; t++, w += BLOCK) {
                int offset = context->taps[t];
                __m512 x0 = _mm512_loadu_ps(p0 + offset), x1 = _mm512_loadu_ps(p1 + offset);
                __m512 x2 = _mm512_loadu_ps(p2 + offset);
                MULTIPLY_ADD16(0); MULTIPLY_ADD16(1); MULTIPLY_ADD16(2); MULTIPLY_ADD16(3);
                MULTIPLY_ADD16(4); MULTIPLY_ADD16(5); MULTIPLY_ADD16(6); MULTIPLY_ADD16(7);
            }
        }
    }
    STORE_TILE(__m512, store16, BLOCK);
}

__attribute__((target("avx512f"))) static void block16(
    const tile_context *context, const float *weights, int first_channel, const pixel_vector *vectors,
    const vector_taps *taps, int count) {
    if (taps && context->tap_count == 9)
        tile16(context, 9, 1, weights, first_channel, vectors, taps, count);
    else if (taps)
        tile16(context, context->tap_count, 1, weights, first_channel, vectors, taps, count);
    else if (context->tap_count == 9)
        tile16(context, 9, 0, weights, first_channel, vectors, NULL, count);
    else if (context->tap_count == 1)
        tile16(context, 1, 0, weights, first_channel, vectors, NULL, count);
    else
        tile16(context, context->tap_count, 0, weights, first_channel, vectors, NULL, count);
}

void dl_conv_run(
    const dl_conv_shape *shape, const float *padded, const float *const *planes, const float *packed_weights,
    const float *bias, const float *residual, int relu, float *output, int vector_begin, int vector_end,
    int block_begin, int block_end) {
    padded_layout layout = layout_of(shape);
    int k = shape->kernel, stride = shape->stride, dilation = shape->dilation;
    int tap_count = k * k;
    if (tap_count > MAX_TAPS || shape->level < 1 || shape->level > dl_conv_level()) return;
    if (planes && !dl_conv_reads_in_place(shape)) return;
    int taps[MAX_TAPS];
    for (int ky = 0; ky < k; ky++) {
        for (int kx = 0; kx < k; kx++) {
            int reach = kx * dilation;
            taps[ky * k + kx] = (int)((size_t)(ky * dilation) * layout.row_stride +
                                      (size_t)(reach % stride) * (size_t)layout.phase_length + (size_t)(reach / stride));
        }
    }
    tile_context context = {
        shape, layout, padded, planes, taps, tap_count, bias, residual, relu, output,
        (size_t)shape->out_height * (size_t)shape->out_width};
    size_t depth = (size_t)shape->channels * (size_t)tap_count;
    int chunk = TILE * TILES_PER_CHUNK;
    // A chunk's vectors (and, read in place, their taps) are worked out once for every block.
    pixel_vector vectors[TILE * TILES_PER_CHUNK];
    vector_taps in_place[TILE * TILES_PER_CHUNK];
    for (int chunk_begin = vector_begin; chunk_begin < vector_end; chunk_begin += chunk) {
        int chunk_count = chunk_begin + chunk < vector_end ? chunk : vector_end - chunk_begin;
        for (int v = 0; v < chunk_count; v++) {
            vectors[v] = vector_at(shape, layout, chunk_begin + v);
            if (planes) in_place_taps(shape, vectors[v], &in_place[v]);
        }
        for (int block = block_begin; block < block_end; block++) {
            const float *weights = packed_weights + (size_t)block * depth * BLOCK;
            for (int first = 0; first < chunk_count; first += TILE) {
                int count = chunk_count - first < TILE ? chunk_count - first : TILE;
                if (layout.lanes == 16)
                    block16(&context, weights, block * BLOCK, vectors + first, planes ? in_place + first : NULL, count);
                else if (shape->level == 2)
                    block8_wide(&context, weights, block * BLOCK, vectors + first, count);
                else
                    block8(&context, weights, block * BLOCK, vectors + first, count);
            }
        }
    }
}
