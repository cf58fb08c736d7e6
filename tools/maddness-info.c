#include "maddness.h"
int main (void) { return 1; }
