package mail

import "time"

// FormatDuration writes a lifetime the way the mails do, as a person would:
// "1 hour", "15 minutes", "2 days". Pages that mention the same lifetime use
// it too, so that a page and its mail agree.
func FormatDuration(d time.Duration) string { return formatDuration(d) }
