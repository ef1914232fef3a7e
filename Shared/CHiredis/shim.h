#ifndef FAIRWAY_CHIREDIS_SHIM_H
#define FAIRWAY_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
