// The ConvLSTM cell's elementwise update, compiled for AVX-512, AVX2 + FMA and plain x86-64 from
// one loop, chosen at run time: with the instruction sets the compiler vectorises it 16 or 8 wide
// with fused multiply-adds (Swift code gets neither without target flags that older CPUs lack).

#include "convolution.h"

#include <stdint.h>
#include <string.h>

/// eˣ for x ≤ 88 without a library call: x = n·ln 2 + r, eʳ by Cephes' degree-6 polynomial, 2ⁿ
/// through the exponent bits (the engine's `fastExp`).
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
