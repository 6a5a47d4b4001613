// Header-only target (include/CVectorMath.h); SwiftPM wants one source file per C target.
#include "CVectorMath.h"
