// XGBoost's C API (XGDMatrixCreateFromMat, XGBoosterCreate, XGBoosterUpdateOneIter,
// XGBoosterPredict), from Debian's libxgboost-dev (1.7 on Debian 12). tab-score uses it for the
// tree detector and machine-learning efficiency.
#include <xgboost/c_api.h>
