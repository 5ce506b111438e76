package supervisor

import "github.com/flowgate/flowgate/internal/runtime"

// rotateLogs keeps the logs of the kept services within their size while
// they run (RotateRunningLog), with the limits LogLimits gives.
func (k *Keeper) rotateLogs() {
	k.mu.Lock()
	var names []string
	for _, name := range k.order {
		if k.services[name].desired {
			names = append(names, name)
		}
	}
	k.mu.Unlock()
	for _, name := range names {
		var maxBytes int64
		var keep int
		if k.LogLimits != nil {
			maxBytes, keep = k.LogLimits(name)
		}
		_, err := k.Sup.RotateRunningLog(name, maxBytes, keep)
		k.mu.Lock()
		s := k.services[name]
		first := err != nil && !s.rotateFailed
		s.rotateFailed = err != nil
		k.mu.Unlock()
		if first { // once per failure streak, not every tick
			k.Emit.Emit(runtime.Event{Event: "log_rotate", Service: name, Result: "failed", Detail: err.Error() + "; check that " + k.Sup.LogDir + " is writable and has free space"})
		}
	}
	if k.SelfLog != "" {
		_, _ = k.Sup.RotateRunningLog(k.SelfLog, DefaultLogMaxBytes, DefaultLogKeep)
	}
}
