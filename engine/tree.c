/* tree.c: placeholder until its owner fills it in. */
#include "mdn-private.h"
