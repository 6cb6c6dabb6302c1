//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// observe sees every event of the tab, in order, on chromedp's reading
// goroutine: it must be quick and must not call the browser.
func (b *Browser) observe(ev any) {
	switch ev := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeAssert {
			b.report(fmt.Sprintf("console.%s: %s%s", ev.Type, consoleArgs(ev.Args), stackPlace(ev.StackTrace)))
		}
	case *cdpruntime.EventExceptionThrown:
		b.report(exceptionText(ev.ExceptionDetails))
	case *log.EventEntryAdded:
		if e := ev.Entry; e != nil && e.Level == log.EntryLevelError {
			msg := fmt.Sprintf("%s: %s", e.Source, e.Text)
			if e.URL != "" && !strings.Contains(e.Text, e.URL) {
				msg += " (" + e.URL + ")"
			}
			b.report(msg)
		}
	case *network.EventResponseReceived:
		b.mu.Lock()
		if ev.Type == network.ResourceTypeDocument && ev.FrameID == b.mainFrame && ev.Response != nil {
			b.status = ev.Response.Status
		}
		b.mu.Unlock()
	}
}

func (b *Browser) report(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, msg)
}

// checkConsole fails the test for every page error that AllowConsole did not
// expect. It runs when the test ends, before the browser closes.
func (b *Browser) checkConsole() {
	// A round trip to the page: events are handled in the order they
	// arrive, so every error the browser sent before the answer has been
	// recorded when it comes back.
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`0`))
	cancel()

	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	var unexpected []string
	for _, p := range b.problems {
		if b.isAllowed(p) {
			b.t.Logf("tolerated page error: %s", p)
			continue
		}
		unexpected = append(unexpected, p)
	}
	if len(unexpected) > 0 {
		b.t.Errorf("the browser reported %d page error(s):\n\t%s", len(unexpected), strings.Join(unexpected, "\n\t"))
	}
}

func (b *Browser) isAllowed(msg string) bool {
	for _, a := range b.allowed {
		if strings.Contains(msg, a) {
			return true
		}
	}
	return false
}

// consoleArgs renders console arguments roughly as DevTools shows them:
// strings as they are, other values by their description.
func consoleArgs(args []*cdpruntime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		switch {
		case a.Type == cdpruntime.RemoteObjectTypeString && json.Unmarshal(a.Value, &s) == nil:
		case a.Description != "":
			s = a.Description
		case len(a.Value) > 0:
			s = string(a.Value)
		default:
			s = string(a.Type)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// exceptionText renders an uncaught exception as "Uncaught TypeError: …
// (where)", leaving out the stack that the description repeats.
func exceptionText(d *cdpruntime.ExceptionDetails) string {
	if d == nil {
		return "uncaught exception"
	}
	text := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		desc, _, _ := strings.Cut(d.Exception.Description, "\n")
		text += " " + desc
	}
	if d.URL != "" {
		text += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
	} else {
		text += stackPlace(d.StackTrace)
	}
	return text
}

// stackPlace names the innermost frame of a stack trace, or "".
func stackPlace(st *cdpruntime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf(" (%s:%d)", f.URL, f.LineNumber+1)
}
