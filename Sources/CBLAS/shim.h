// OpenBLAS's CBLAS interface (cblas_sgemm, openblas_set_num_threads), from Debian's
// libopenblas-dev.
//
// Use the pthread build, not the OpenMP one: OpenMP collapsed to 8-17 GFLOP/s on small two-thread
// GEMMs on our machines (the design notes). On Debian 12, libopenblas-dev depends
// on "libopenblas-pthread-dev | libopenblas-openmp-dev | ...", so apt installs the pthread
// variant; its openblas.pc (the pkgConfig of this target) points at
// /usr/{include,lib}/x86_64-linux-gnu/openblas-pthread/. At run time the loader finds
// libopenblas.so.0 through update-alternatives, which selects the pthread library unless someone
// installed and chose another variant; TabCore's tests check `openblas_get_parallel() == 1`
// (pthread) so that a wrong variant fails loudly.
#include <cblas.h>
