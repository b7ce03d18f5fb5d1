/* Byte scans shared by the native twins (jsonsplit, docrun): 16 bytes at a time with SSE2 where the
 * compiler targets it (every x86-64), one byte at a time elsewhere. Same results either way. */
#ifndef RAVENMIGRATE_SIMD_H
#define RAVENMIGRATE_SIMD_H

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* JSON whitespace as Json.NET reads it (docs/formats/dumps-3x.md §5): space and \t \n \v \f \r (9-13). */
static inline int rm_is_ws(unsigned char c) {
    return c == 32 || (unsigned char)(c - 9) <= 4;
}

/* Index of the first byte at or after i in b[:n] that is not whitespace; n when there is none. */
static inline Py_ssize_t rm_skip_ws(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    if (i < n && !rm_is_ws(b[i]))
        return i;
    if (i + 1 < n && !rm_is_ws(b[i + 1]))  /* one space (after a colon): no vector load */
        return i + 1;
#if defined(__SSE2__)
    {
        const __m128i space = _mm_set1_epi8(32), nine = _mm_set1_epi8(9), four = _mm_set1_epi8(4);
        while (i + 16 <= n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(b + i));
            __m128i d = _mm_sub_epi8(x, nine);
            __m128i ws = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(d, four), d), _mm_cmpeq_epi8(x, space));
            unsigned m = (unsigned)_mm_movemask_epi8(ws) ^ 0xFFFFu;
            if (m)
                return i + __builtin_ctz(m);
            i += 16;
        }
    }
#endif
    while (i < n && rm_is_ws(b[i]))
        i++;
    return i;
}

/* Index of the first '"' or backslash at or after i in b[:n]; n when there is none. */
static inline Py_ssize_t rm_dq_stop(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
#if defined(__SSE2__)
    {
        const __m128i quote = _mm_set1_epi8(34), backslash = _mm_set1_epi8(92);
        while (i + 16 <= n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(b + i));
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
            if (m)
                return i + __builtin_ctz(m);
            i += 16;
        }
    }
#endif
    while (i < n && b[i] != 34 && b[i] != 92)
        i++;
    return i;
}

/* Index of the first byte at or after i in b[:n] that is not ASCII (>= 0x80); n when there is none. */
static inline Py_ssize_t rm_ascii_end(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
#if defined(__SSE2__)
    while (i + 16 <= n) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(b + i)));
        if (m)
            return i + __builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < n && b[i] < 0x80)
        i++;
    return i;
}

/* Copy n bytes from p to out. Short runs (most JSON tokens) move as one 16-byte block when 16
 * bytes can be read at p (p + 16 <= end) and written at out (the caller guarantees 16 bytes of
 * slack after every write). */
static inline void rm_copy(unsigned char *out, const unsigned char *p, Py_ssize_t n, const unsigned char *end) {
#if defined(__SSE2__)
    if (n <= 16 && p + 16 <= end) {
        _mm_storeu_si128((__m128i *)out, _mm_loadu_si128((const __m128i *)p));
        return;
    }
#endif
    memcpy(out, p, (size_t)n);
}

#endif
