/* backtest.h: `headroom backtest`, the analyzer's detectors replayed over a
 * recorded series in simulated time (DESIGN.md, Commands). */
#ifndef HR_BACKTEST_H
#define HR_BACKTEST_H

/* Runs `headroom backtest ARGS...` (argv[0] is "backtest"); prints one JSON
 * line per alert event to stdout. Returns the exit code: 0, 1 runtime
 * failure, 2 usage or input error (said on stderr). */
int backtest_main(int argc, char **argv);

#endif
