#include "hwnas/cli/cli.h"

int main(int argc, char** argv) { return hwnas::cli::run_main(argc, argv); }
