/* The machine's bare cblas_sgemm rate at the TabSyn denoiser step's GEMM shapes (issue #3).
 *
 * Build and run from the repository root:
 *   gcc -O2 bench/sgemm_rate.c -lopenblas -o bench/out/sgemm_rate
 *   OPENBLAS_NUM_THREADS=1 bench/out/sgemm_rate [REPS] [--json FILE]
 *   OPENBLAS_NUM_THREADS=2 bench/out/sgemm_rate [REPS] [--json FILE]
 *
 * The denoiser is an MLP 60 -> 1024 -> 2048 -> 2048 -> 1024 -> 60 at batch 4096. Each layer of
 * one training step does three products, in the transposes a row-major Linear layer uses:
 *   forward   Y[B,out]  = X[B,in] . W[out,in]^T          (NoTrans, Trans)
 *   backward dX[B,in]   = dY[B,out] . W[out,in]          (NoTrans, NoTrans)
 *   backward dW[out,in] = dY[B,out]^T . X[B,in]          (Trans, NoTrans)
 * Each shape is timed REPS times (default 10) after two warm-up calls; the median is reported
 * with its GFLOP/s (2*m*n*k per product). The total is the 15 medians added up: one step's GEMMs.
 * For context, a fused multiply-add loop measures the cores' peak fp32 rate on 1 thread and on
 * as many threads as OpenBLAS uses.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);

enum { LAYERS = 5, BATCH = 4096 };
static const int widths[LAYERS + 1] = {60, 1024, 2048, 2048, 1024, 60};

typedef struct {
    char name[48];
    const char *trans;
    int m, n, k;
    double ms, min_ms, gflops;
} Shape;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *random_buffer(size_t count, unsigned *seed) {
    float *p = aligned_alloc(64, ((count * sizeof(float) + 63) / 64) * 64);
    if (!p) {
        fprintf(stderr, "sgemm_rate: out of memory\n");
        exit(70);
    }
    for (size_t i = 0; i < count; i++) p[i] = (float)rand_r(seed) / RAND_MAX * 2.0f - 1.0f;
    return p;
}

/* One product of shape s on buffers a, b, c (sized for it), by its transpose pattern. */
static void run_gemm(const Shape *s, const float *a, const float *b, float *c) {
    if (strcmp(s->trans, "NT") == 0) /* a = X[m,k], b = W[n,k] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->m, s->n, s->k, 1.0f, a, s->k,
                    b, s->k, 0.0f, c, s->n);
    else if (strcmp(s->trans, "NN") == 0) /* a = dY[m,k], b = W[k,n] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->m, s->n, s->k, 1.0f, a, s->k,
                    b, s->n, 0.0f, c, s->n);
    else /* "TN": a = dY[k,m], b = X[k,n] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s->m, s->n, s->k, 1.0f, a, s->m,
                    b, s->n, 0.0f, c, s->n);
}

/* ---- peak fp32 rate: independent chains of 8-wide fused multiply-adds ---- */

enum { PEAK_ITERS = 50000000 };

#define FMA12(x, y)                                                                               \
    a0 = _mm256_fmadd_ps(a0, x, y), a1 = _mm256_fmadd_ps(a1, x, y),                              \
    a2 = _mm256_fmadd_ps(a2, x, y), a3 = _mm256_fmadd_ps(a3, x, y),                              \
    a4 = _mm256_fmadd_ps(a4, x, y), a5 = _mm256_fmadd_ps(a5, x, y),                              \
    a6 = _mm256_fmadd_ps(a6, x, y), a7 = _mm256_fmadd_ps(a7, x, y),                              \
    a8 = _mm256_fmadd_ps(a8, x, y), a9 = _mm256_fmadd_ps(a9, x, y),                              \
    a10 = _mm256_fmadd_ps(a10, x, y), a11 = _mm256_fmadd_ps(a11, x, y)

__attribute__((target("avx2,fma"))) static void *fma_loop(void *out) {
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2),
           a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5),
           a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8),
           a9 = _mm256_set1_ps(9), a10 = _mm256_set1_ps(10), a11 = _mm256_set1_ps(11);
    for (long i = 0; i < PEAK_ITERS; i++) {
        FMA12(x, y);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float lanes[8], sum = 0;
    _mm256_storeu_ps(lanes, s);
    for (int l = 0; l < 8; l++) sum += lanes[l];
    *(float *)out = sum;
    return NULL;
}

static double peak_gflops(int threads) {
    pthread_t tid[64];
    float sink[64];
    if (threads > 64) threads = 64;
    double t0 = now_ms();
    for (int t = 0; t < threads; t++) pthread_create(&tid[t], NULL, fma_loop, &sink[t]);
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double ms = now_ms() - t0;
    return threads * (double)PEAK_ITERS * 12 * 8 * 2 / ms / 1e6;
}

int main(int argc, char **argv) {
    int reps = 10;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
            json = argv[++i];
        else if (atoi(argv[i]) > 0)
            reps = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: sgemm_rate [REPS] [--json FILE]\n");
            return 64;
        }
    }

    Shape shapes[3 * LAYERS];
    int count = 0;
    for (int l = 0; l < LAYERS; l++) {
        int in = widths[l], out = widths[l + 1];
        Shape f = {"", "NT", BATCH, out, in, 0, 0, 0};
        Shape dx = {"", "NN", BATCH, in, out, 0, 0, 0};
        Shape dw = {"", "TN", out, in, BATCH, 0, 0, 0};
        snprintf(f.name, sizeof f.name, "L%d %d->%d fwd Y=X.W^T", l, in, out);
        snprintf(dx.name, sizeof dx.name, "L%d %d->%d bwd dX=dY.W", l, in, out);
        snprintf(dw.name, sizeof dw.name, "L%d %d->%d bwd dW=dY^T.X", l, in, out);
        shapes[count++] = f;
        shapes[count++] = dx;
        shapes[count++] = dw;
    }

    /* buffers big enough for every shape: operands at most 4096 x 2048 */
    size_t big = (size_t)BATCH * 2048;
    unsigned seed = 12345;
    float *a = random_buffer(big, &seed), *b = random_buffer(big, &seed);
    float *c = random_buffer(big, &seed);

    int threads = openblas_get_num_threads();
    printf("# OpenBLAS %s, %d thread(s), %d reps per shape (median)\n", openblas_get_config(),
           threads, reps);
    double *times = malloc(sizeof(double) * reps);
    double total_ms = 0, total_min_ms = 0, total_flop = 0;
    for (int i = 0; i < count; i++) {
        Shape *s = &shapes[i];
        run_gemm(s, a, b, c);
        run_gemm(s, a, b, c);
        for (int r = 0; r < reps; r++) {
            double t0 = now_ms();
            run_gemm(s, a, b, c);
            times[r] = now_ms() - t0;
        }
        qsort(times, reps, sizeof(double), cmp_double);
        s->ms = reps % 2 ? times[reps / 2] : (times[reps / 2 - 1] + times[reps / 2]) / 2;
        s->min_ms = times[0];
        double flop = 2.0 * s->m * s->n * s->k;
        total_min_ms += s->min_ms;
        s->gflops = flop / s->ms / 1e6;
        total_ms += s->ms;
        total_flop += flop;
        printf("  sgemm %-28s %s m=%-5d n=%-5d k=%-5d %8.2f ms %7.1f GFLOP/s (min %.2f ms)\n",
               s->name, s->trans, s->m, s->n, s->k, s->ms, s->gflops, s->min_ms);
        fflush(stdout);
    }
    double total_gflops = total_flop / total_ms / 1e6;
    printf("sgemm total (15 denoiser GEMMs) %9.2f ms/step %8.2f GFLOP %7.1f GFLOP/s "
           "(sum of minima %.2f ms: %.1f GFLOP/s)\n",
           total_ms, total_flop / 1e9, total_gflops, total_min_ms, total_flop / total_min_ms / 1e6);
    double peak1 = peak_gflops(1), peakn = threads > 1 ? peak_gflops(threads) : peak1;
    printf("fma peak: %.1f GFLOP/s on 1 thread, %.1f on %d\n", peak1, peakn, threads);

    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            perror(json);
            return 73;
        }
        fprintf(f, "{\n \"openblas\": \"%s\",\n \"threads\": %d,\n \"reps\": %d,\n \"shapes\": [\n",
                openblas_get_config(), threads, reps);
        for (int i = 0; i < count; i++)
            fprintf(f,
                    "  {\"name\": \"%s\", \"trans\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, "
                    "\"ms\": %.4f, \"min_ms\": %.4f, \"gflops\": %.2f}%s\n",
                    shapes[i].name, shapes[i].trans, shapes[i].m, shapes[i].n, shapes[i].k,
                    shapes[i].ms, shapes[i].min_ms, shapes[i].gflops, i + 1 < count ? "," : "");
        fprintf(f,
                " ],\n \"ms_per_step\": %.4f,\n \"min_ms_per_step\": %.4f,\n \"gflop\": %.4f,\n \"gflops\": %.2f,\n"
                " \"fma_peak_gflops_1_thread\": %.2f,\n \"fma_peak_gflops_all_threads\": %.2f\n}\n",
                total_ms, total_min_ms, total_flop / 1e9, total_gflops, peak1, peakn);
        fclose(f);
    }
    free(times);
    free(a);
    free(b);
    free(c);
    return 0;
}
