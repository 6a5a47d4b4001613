// libzstd's public API, from Debian's libzstd-dev.
#include <zstd.h>
