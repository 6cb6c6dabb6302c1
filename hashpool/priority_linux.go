package hashpool

import "syscall"

// niceness is the nice value of hashing threads; see Threads.
const niceness = 5

// lowerPriority sets the calling thread's nice value. On Linux,
// setpriority with PRIO_PROCESS and a thread ID applies to that thread
// alone.
func lowerPriority() {
	syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), niceness)
}
