#!/usr/bin/env node
// libtensorflow (native backend, loaded in stage workers) reads its log level from the real process
// environment, which a worker thread cannot change: keep its INFO lines off the terminal from here.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
// One libtensorflow intra-op thread per stage worker (faster at these sizes, see src/rl/nn/backend.ts).
process.env.TF_NUM_INTRAOP_THREADS ??= '1';
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
