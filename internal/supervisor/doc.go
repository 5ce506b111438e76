// Package supervisor starts, stops and inspects FlowGate's child services
// (the built-in gateway, CLIProxyAPIPlus, LiteLLM) as detached processes.
//
// Every child runs in its own session and process group with stdin from
// /dev/null and stdout+stderr appended to a size-rotated log file. A start is
// only reported as successful once the child answers its readiness probe with
// a 2xx status; the exit code is never trusted, because CLIProxyAPIPlus exits 0
// on fatal errors. A child that exits early or never becomes ready is killed
// (its whole group) and reported as failed together with the tail of its log.
//
// Each running service has a JSON pid file recording its pid, process group
// and kernel start time. A pid is trusted, and signalled, only while the live
// process still has that start time, so a recycled pid is never touched.
// Stop signals the whole group (SIGTERM, a grace period, then SIGKILL), so
// grandchildren of wrapper chains do not survive holding the port.
//
// Start, stop and restart of one service are serialised across processes by
// a flock on PidDir/NAME.lock. Inspect, Probe and TailLog are read-only and
// create no files or folders.
//
// A CLI command builds one Spec per service from the config, then calls and
// prints, for example:
//
//	sup := &supervisor.Supervisor{PidDir: pids, LogDir: logs, Emit: emitter}
//	results := sup.StartAll(ctx, specs) // specs in dependency order
//	for _, r := range results {
//		fmt.Println(r) // gateway: started pid=123 ready in 41ms
//		for _, l := range r.LogTail {
//			fmt.Fprintln(os.Stderr, "  "+l)
//		}
//	}
//	if !supervisor.AllOK(results) {
//		return 1
//	}
package supervisor
