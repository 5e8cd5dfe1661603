// The engine's elementwise loops that need eˣ: the ConvLSTM cell's update and the softmax down the
// columns of a matrix. Each is compiled for AVX-512, AVX2 + FMA and plain x86-64 from one loop,
// chosen at run time: with the instruction sets the compiler vectorises it 16 or 8 wide with fused
// multiply-adds (Swift code gets neither without target flags that older CPUs lack).

#include "convolution.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/// eˣ for x ≤ 88 without a library call, so loops over it vectorise: x = n·ln 2 + r with
/// |r| ≤ ln 2 / 2, eʳ by Cephes' degree-6 polynomial, 2ⁿ through the exponent bits. Relative error
/// under 2·10⁻⁷; inputs below −87 give about 10⁻³⁸ instead of 0.
static inline float fast_exp(float x) {
    float clamped = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    const float shift = 12582912.0f;  // 1.5·2²³: adding and subtracting it rounds to an integer
    float shifted = clamped * 1.44269504f + shift;
    float n = shifted - shift;
    float r = clamped - n * 0.693359375f + n * 2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.1665796e-2f;
    p = p * r + 1.66666555e-1f;
    p = p * r + 5.0000001e-1f;
    float e = p * r * r + r + 1;
    int32_t bits, shift_bits;
    memcpy(&bits, &shifted, sizeof bits);
    memcpy(&shift_bits, &shift, sizeof shift_bits);
    int32_t exponent = (int32_t)((uint32_t)(bits - shift_bits + 127) << 23);
    float scale;
    memcpy(&scale, &exponent, sizeof scale);
    return e * scale;
}

static inline float logistic(float x) { return 1 / (1 + fast_exp(-x)); }

static inline float fast_tanh(float x) { return 2 * logistic(2 * x) - 1; }

#define LSTM_UPDATE_BODY                                                                            \
    for (size_t index = begin; index < end; index++) {                                              \
        float next = logistic(forget_gates[index]) * previous_cell[index] +                         \
                     logistic(input_gates[index]) * fast_tanh(candidates[index]);                   \
        cell[index] = next;                                                                         \
        hidden[index] = logistic(output_gates[index]) * fast_tanh(next);                            \
    }

#define LSTM_UPDATE_PARAMETERS                                                                      \
    const float *restrict input_gates, const float *restrict forget_gates,                          \
        const float *restrict candidates, const float *restrict output_gates,                       \
        const float *restrict previous_cell, float *restrict cell, float *restrict hidden, size_t begin, \
        size_t end

__attribute__((target("avx512f"))) static void lstm_update16(LSTM_UPDATE_PARAMETERS) { LSTM_UPDATE_BODY }

__attribute__((target("avx2,fma"))) static void lstm_update8(LSTM_UPDATE_PARAMETERS) { LSTM_UPDATE_BODY }

static void lstm_update(LSTM_UPDATE_PARAMETERS) { LSTM_UPDATE_BODY }

void dl_lstm_update(
    const float *gates, size_t area, const float *previous_cell, float *cell, float *hidden, size_t begin,
    size_t end, int level) {
    const float *input_gates = gates, *forget_gates = gates + area, *candidates = gates + 2 * area;
    const float *output_gates = gates + 3 * area;
    if (level == 2) {
        lstm_update16(input_gates, forget_gates, candidates, output_gates, previous_cell, cell, hidden, begin, end);
    } else if (level == 1) {
        lstm_update8(input_gates, forget_gates, candidates, output_gates, previous_cell, cell, hidden, begin, end);
    } else {
        lstm_update(input_gates, forget_gates, candidates, output_gates, previous_cell, cell, hidden, begin, end);
    }
}

#define SOFTMAX_COLUMNS_BODY                                                                        \
    for (size_t column = 0; column < columns; column++) {                                           \
        maxima[column] = -INFINITY;                                                                 \
        sums[column] = 0;                                                                           \
    }                                                                                               \
    for (size_t row = 0; row < rows; row++) {                                                       \
        const float *line = matrix + row * stride;                                                  \
        for (size_t column = 0; column < columns; column++) {                                       \
            maxima[column] = line[column] > maxima[column] ? line[column] : maxima[column];         \
        }                                                                                           \
    }                                                                                               \
    for (size_t row = 0; row < rows; row++) {                                                       \
        float *line = matrix + row * stride;                                                        \
        for (size_t column = 0; column < columns; column++) {                                       \
            line[column] = fast_exp(line[column] - maxima[column]);                                 \
            sums[column] += line[column];                                                           \
        }                                                                                           \
    }                                                                                               \
    for (size_t column = 0; column < columns; column++) sums[column] = 1 / sums[column];           \
    for (size_t row = 0; row < rows; row++) {                                                       \
        float *line = matrix + row * stride;                                                        \
        for (size_t column = 0; column < columns; column++) {                                       \
            float probability = line[column] * sums[column];                                        \
            line[column] = probability < FLT_MIN ? 0 : probability;                                 \
        }                                                                                           \
    }

#define SOFTMAX_COLUMNS_PARAMETERS                                                                  \
    float *restrict matrix, size_t rows, size_t columns, size_t stride, float *restrict maxima,     \
        float *restrict sums

__attribute__((target("avx512f"))) static void softmax_columns16(SOFTMAX_COLUMNS_PARAMETERS) {
    SOFTMAX_COLUMNS_BODY
}

__attribute__((target("avx2,fma"))) static void softmax_columns8(SOFTMAX_COLUMNS_PARAMETERS) {
    SOFTMAX_COLUMNS_BODY
}

static void softmax_columns(SOFTMAX_COLUMNS_PARAMETERS) { SOFTMAX_COLUMNS_BODY }

void dl_softmax_columns(
    float *matrix, size_t rows, size_t columns, size_t stride, float *maxima, float *sums, int level) {
    if (level == 2) {
        softmax_columns16(matrix, rows, columns, stride, maxima, sums);
    } else if (level == 1) {
        softmax_columns8(matrix, rows, columns, stride, maxima, sums);
    } else {
        softmax_columns(matrix, rows, columns, stride, maxima, sums);
    }
}
