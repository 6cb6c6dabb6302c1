package hashpool

import "syscall"

// lowerPriority sets the calling thread's nice value to 19, the lowest
// priority. On Linux, setpriority with PRIO_PROCESS and a thread ID applies
// to that thread alone.
func lowerPriority() {
	syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
}
