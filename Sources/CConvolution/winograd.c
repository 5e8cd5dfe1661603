// Winograd F(2x2, 3x3) convolution for AVX-512 (Lavin and Gray, 2016): 3x3, stride-1, padding-1
// convolutions compute each 2x2 output tile from a 4x4 input tile with 16 multiplications per
// (input, output) channel pair instead of 36. Per block of up to 48 tiles (in raster order over the
// tile grid): the input tiles of every channel are transformed (V = Bᵀ d B) into 16 matrices
// V[ξ][channel][tile], vectorised over 16 tiles of one tile row read in place with masked loads; 16
// products M[ξ] = U[ξ] V[ξ] with the weights transformed at load (U = G g Gᵀ) run in register tiles
// of 8 output channels x up to 3 vectors of 16 tiles; and the output transform (Aᵀ M A) adds the
// bias, an optional residual and ReLU and writes the 2x2 tiles, interleaved back into rows.

#include "convolution.h"
#include "lanes.h"

#include <immintrin.h>

#define BLOCK DL_CONV_BLOCK_CHANNELS
/// The 4x4 transformed positions ξ.
#define POSITIONS 16
/// Tiles per block at most: 3 vectors of 16, the register tile's width.
#define MAX_BLOCK_TILES 48

static int tiles_across(const dl_conv_shape *shape) { return (shape->width + 1) / 2; }

static int tile_count(const dl_conv_shape *shape) { return tiles_across(shape) * ((shape->height + 1) / 2); }

static int channel_blocks(int out_channels) { return (out_channels + BLOCK - 1) / BLOCK; }

/// Tiles per block: the tiles shared evenly among as few blocks of at most 48 as hold them,
/// rounded up to whole vectors.
static int block_tiles(const dl_conv_shape *shape) {
    int tiles = tile_count(shape), blocks = (tiles + MAX_BLOCK_TILES - 1) / MAX_BLOCK_TILES;
    return ((tiles + blocks - 1) / blocks + 15) / 16 * 16;
}

int dl_winograd_block_count(const dl_conv_shape *shape) {
    int per_block = block_tiles(shape);
    return (tile_count(shape) + per_block - 1) / per_block;
}

size_t dl_winograd_weights_count(int out_channels, int in_channels) {
    return (size_t)POSITIONS * (size_t)channel_blocks(out_channels) * BLOCK * (size_t)in_channels;
}

void dl_winograd_pack_weights(const float *weights, int out_channels, int in_channels, float *packed) {
    int blocks = channel_blocks(out_channels);
    for (int output = 0; output < blocks * BLOCK; output++) {
        for (int input = 0; input < in_channels; input++) {
            const float *g = weights + ((size_t)output * in_channels + input) * 9;
            double rows[4][3], u[4][4];  // G g, then (G g) Gᵀ
            for (int j = 0; j < 3; j++) {
                double g0 = output < out_channels ? g[j] : 0, g1 = output < out_channels ? g[3 + j] : 0;
                double g2 = output < out_channels ? g[6 + j] : 0;
                rows[0][j] = g0;
                rows[1][j] = (g0 + g1 + g2) / 2;
                rows[2][j] = (g0 - g1 + g2) / 2;
                rows[3][j] = g2;
            }
            for (int i = 0; i < 4; i++) {
                u[i][0] = rows[i][0];
                u[i][1] = (rows[i][0] + rows[i][1] + rows[i][2]) / 2;
                u[i][2] = (rows[i][0] - rows[i][1] + rows[i][2]) / 2;
                u[i][3] = rows[i][2];
            }
            for (int position = 0; position < POSITIONS; position++) {
                size_t index = (((size_t)position * blocks + output / BLOCK) * in_channels + input) * BLOCK;
                packed[index + output % BLOCK] = (float)u[position / 4][position % 4];
            }
        }
    }
}

/// Where a block's transformed input V[ξ][channel][tile] and its products M[ξ][output channel][tile]
/// (output channels from the first of the call's channel blocks) are, each row `tiles` floats long.
typedef struct {
    int tiles;
    const float *input;
    float *products;
} block_scratch;

size_t dl_winograd_input_count(const dl_conv_shape *shape) {
    return (size_t)POSITIONS * (size_t)shape->channels * (size_t)block_tiles(shape);
}

size_t dl_winograd_products_count(const dl_conv_shape *shape, int blocks) {
    // The last row's vectors may be read past its end.
    return (size_t)POSITIONS * (size_t)blocks * BLOCK * (size_t)block_tiles(shape) + 16;
}

/// The first `count` lanes.
static inline __mmask16 first_lanes(int count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

/// A run of tiles in one tile row: its first tile (row, column) and where it starts in the block.
typedef struct {
    int row, column, offset, count;
} tile_run;

/// The tile runs of the block of `count` tiles from `first`, one per tile row it touches.
#define FOR_EACH_RUN(shape, first, count, run)                                                    \
    for (tile_run run = {(first) / tiles_across(shape), (first) % tiles_across(shape), 0, 0};      \
         (run.count = (count) - run.offset < tiles_across(shape) - run.column                     \
                          ? (count) - run.offset                                                   \
                          : tiles_across(shape) - run.column) > 0;                                \
         run.offset += run.count, run.row++, run.column = 0)

/// The first tile of block `tile_block` and how many tiles it has.
static void block_extent(const dl_conv_shape *shape, int tile_block, int *first, int *count) {
    int per_block = block_tiles(shape);
    *first = tile_block * per_block;
    *count = tile_count(shape) - *first < per_block ? tile_count(shape) - *first : per_block;
}

/// V = Bᵀ d B for input channels [channel_begin, channel_end) and every tile of the block, 16 tiles
/// of a run at a time: the four columns of each tile row come from masked loads and two-source
/// permutations that keep every second column. Lanes past the block's last tile are zeros.
__attribute__((target("avx512f"))) void dl_winograd_transform_input(
    const dl_conv_shape *shape, const float *const *planes, int tile_block, int channel_begin, int channel_end,
    float *input) {
    int first, count, tiles = block_tiles(shape);
    block_extent(shape, tile_block, &first, &count);
    const __m512i even = EVEN_FLOATS, odd = ODD_FLOATS;
    int height = shape->height, width = shape->width, channels = shape->channels;
    size_t position_stride = (size_t)channels * tiles;
    FOR_EACH_RUN(shape, first, count, run) {
        for (int k = 0; k < run.count; k += 16) {
            // Where the chunk's four tile rows read, the same for every channel.
            int column = 2 * (run.column + k) - 1;
            __mmask16 inside[4] = {inside16(column, width), inside16(column + 16, width),
                                   inside16(column + 2, width), inside16(column + 18, width)};
            int rows[4];
            for (int i = 0; i < 4; i++) rows[i] = 2 * run.row - 1 + i;
            __mmask16 lanes = first_lanes(run.count - k);
            for (int channel = channel_begin; channel < channel_end; channel++) {
                __m512 d[4][4];
                for (int i = 0; i < 4; i++) {
                    if (rows[i] < 0 || rows[i] >= height) {
                        for (int j = 0; j < 4; j++) d[i][j] = _mm512_setzero_ps();
                        continue;
                    }
                    const float *line = planes[channel] + (size_t)rows[i] * width + column;
                    __m512 a = _mm512_maskz_loadu_ps(inside[0], line);
                    __m512 b = _mm512_maskz_loadu_ps(inside[1], line + 16);
                    __m512 c = _mm512_maskz_loadu_ps(inside[2], line + 2);
                    __m512 e = _mm512_maskz_loadu_ps(inside[3], line + 18);
                    d[i][0] = _mm512_permutex2var_ps(a, even, b);
                    d[i][1] = _mm512_permutex2var_ps(a, odd, b);
                    d[i][2] = _mm512_permutex2var_ps(c, even, e);
                    d[i][3] = _mm512_permutex2var_ps(c, odd, e);
                }
                __m512 t[4][4];
                for (int j = 0; j < 4; j++) {
                    t[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
                    t[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
                    t[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
                    t[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
                }
                float *target = input + (size_t)channel * tiles + run.offset + k;
                for (int i = 0; i < 4; i++) {
                    __m512 v[4] = {_mm512_sub_ps(t[i][0], t[i][2]), _mm512_add_ps(t[i][1], t[i][2]),
                                   _mm512_sub_ps(t[i][2], t[i][1]), _mm512_sub_ps(t[i][1], t[i][3])};
                    for (int j = 0; j < 4; j++) {
                        _mm512_mask_storeu_ps(target + (size_t)(4 * i + j) * position_stride, lanes, v[j]);
                    }
                }
            }
        }
    }
    // The products read whole vectors.
    int whole = (count + 15) / 16 * 16;
    if (whole == count) return;
    for (int position = 0; position < POSITIONS; position++) {
        for (int channel = channel_begin; channel < channel_end; channel++) {
            _mm512_mask_storeu_ps(input + ((size_t)position * channels + channel) * tiles + whole - 16,
                                  (__mmask16)~first_lanes(16 - (whole - count)), _mm512_setzero_ps());
        }
    }
}

/// M[ξ] = U[ξ] V[ξ] for output channel blocks [block_begin, block_end): a register tile of 8
/// channels x `vectors` vectors of 16 tiles accumulates over every input channel.
__attribute__((target("avx512f"), always_inline)) static inline void multiply(
    const dl_conv_shape *shape, const float *weights, block_scratch scratch, int vectors, int block_begin,
    int block_end) {
    int channels = shape->channels, blocks = channel_blocks(shape->out_channels);
    for (int position = 0; position < POSITIONS; position++) {
        const float *input = scratch.input + (size_t)position * channels * scratch.tiles;
        for (int block = block_begin; block < block_end; block++) {
            const float *w = weights + ((size_t)position * blocks + block) * channels * BLOCK;
            __m512 sums[BLOCK][3];
            for (int o = 0; o < BLOCK; o++) {
                for (int v = 0; v < vectors; v++) sums[o][v] = _mm512_setzero_ps();
            }
            for (int channel = 0; channel < channels; channel++) {
                const float *row = input + (size_t)channel * scratch.tiles;
                __m512 x[3];
                for (int v = 0; v < vectors; v++) x[v] = _mm512_loadu_ps(row + 16 * v);
                for (int o = 0; o < BLOCK; o++) {
                    __m512 weight = _mm512_set1_ps(w[channel * BLOCK + o]);
                    for (int v = 0; v < vectors; v++) sums[o][v] = _mm512_fmadd_ps(weight, x[v], sums[o][v]);
                }
            }
            float *target = scratch.products +
                            ((size_t)position * (block_end - block_begin) + block - block_begin) * BLOCK * scratch.tiles;
            for (int o = 0; o < BLOCK; o++) {
                for (int v = 0; v < vectors; v++) _mm512_storeu_ps(target + o * scratch.tiles + 16 * v, sums[o][v]);
            }
        }
    }
}

/// One output row of 16 tiles: `left` and `right` (each tile's two columns) interleaved into 32
/// pixels from `output`, `valid` of them inside the image; residual and ReLU applied.
__attribute__((target("avx512f"), always_inline)) static inline void store_row(
    __m512 left, __m512 right, float *output, const float *residual, int valid, int relu) {
    const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i high = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    __m512 halves[2] = {_mm512_permutex2var_ps(left, low, right), _mm512_permutex2var_ps(left, high, right)};
    for (int h = 0; h < 2; h++) {
        __mmask16 lanes = first_lanes(valid - 16 * h);
        if (!lanes) break;
        __m512 value = halves[h];
        if (residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(lanes, residual + 16 * h));
        if (relu) value = _mm512_max_ps(value, _mm512_setzero_ps());
        if (lanes == 0xFFFF) {
            _mm512_storeu_ps(output + 16 * h, value);
        } else {
            _mm512_mask_storeu_ps(output + 16 * h, lanes, value);
        }
    }
}

/// Y = Aᵀ M A for output channels [channel_begin, channel_end) and every tile of the block, plus
/// bias, residual and ReLU, written as 2x2 pixel tiles.
__attribute__((target("avx512f"))) static void transform_output(
    const dl_conv_shape *shape, block_scratch scratch, int first, int count, int channel_begin, int channel_end,
    const float *bias, const float *residual, int relu, float *output) {
    int height = shape->height, width = shape->width;
    size_t plane = (size_t)height * width;
    size_t position_stride = (size_t)(channel_end - channel_begin + BLOCK - 1) / BLOCK * BLOCK * scratch.tiles;
    for (int channel = channel_begin; channel < channel_end; channel++) {
        const float *products = scratch.products + (size_t)(channel - channel_begin) * scratch.tiles;
        __m512 shift = _mm512_set1_ps(bias[channel]);
        float *target = output + (size_t)channel * plane;
        const float *added = residual ? residual + (size_t)channel * plane : NULL;
        FOR_EACH_RUN(shape, first, count, run) {
            for (int k = 0; k < run.count; k += 16) {
                __m512 m[16];
                for (int position = 0; position < POSITIONS; position++) {
                    m[position] = _mm512_loadu_ps(products + position * position_stride + run.offset + k);
                }
                __m512 s[2][4];
                for (int j = 0; j < 4; j++) {
                    s[0][j] = _mm512_add_ps(_mm512_add_ps(m[j], m[4 + j]), m[8 + j]);
                    s[1][j] = _mm512_sub_ps(_mm512_sub_ps(m[4 + j], m[8 + j]), m[12 + j]);
                }
                int column = 2 * (run.column + k);
                int tiles = run.count - k < 16 ? run.count - k : 16;
                int valid = width - column < 2 * tiles ? width - column : 2 * tiles;
                for (int i = 0; i < 2 && 2 * run.row + i < height; i++) {
                    __m512 left = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[i][0], s[i][1]), s[i][2]), shift);
                    __m512 right = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[i][1], s[i][2]), s[i][3]), shift);
                    size_t at = (size_t)(2 * run.row + i) * width + column;
                    store_row(left, right, target + at, added ? added + at : NULL, valid, relu);
                }
            }
        }
    }
}

__attribute__((target("avx512f"))) void dl_winograd_multiply(
    const dl_conv_shape *shape, const float *input, const float *packed_weights, const float *bias,
    const float *residual, int relu, float *output, int tile_block, int block_begin, int block_end,
    float *products) {
    int first, count;
    block_extent(shape, tile_block, &first, &count);
    block_scratch scratch = {block_tiles(shape), input, products};
    switch ((count + 15) / 16) {
        case 1: multiply(shape, packed_weights, scratch, 1, block_begin, block_end); break;
        case 2: multiply(shape, packed_weights, scratch, 2, block_begin, block_end); break;
        default: multiply(shape, packed_weights, scratch, 3, block_begin, block_end); break;
    }
    int channel_end = block_end * BLOCK < shape->out_channels ? block_end * BLOCK : shape->out_channels;
    transform_output(shape, scratch, first, count, block_begin * BLOCK, channel_end, bias, residual, relu, output);
}
