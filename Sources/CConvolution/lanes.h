// Lane masks and permutations the AVX-512 kernels share (private to CConvolution).

#ifndef DELINEATE_LANES_H
#define DELINEATE_LANES_H

#include <immintrin.h>

/// The lanes of 16 columns starting at `first` that lie inside [0, width).
__attribute__((target("avx512f"))) static inline __mmask16 inside16(int first, int width) {
    int begin = first < 0 ? -first : 0, end = width - first < 16 ? width - first : 16;
    return end > begin ? (__mmask16)(((1u << (end - begin)) - 1) << begin) : 0;
}

/// `_mm512_permutex2var_ps` indices that keep the even floats of two vectors, then the odd ones.
#define EVEN_FLOATS _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define ODD_FLOATS _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)

#endif
