//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each browser action unless Browser.Timeout says
// otherwise. Every page in the suite is served from loopback, so anything
// slower than this is a hang, not a slow network.
const DefaultTimeout = 5 * time.Second

// viewports are the sizes, in CSS pixels, at which Screenshot captures a
// page: a laptop and a phone, the phone emulated as a mobile device so that
// the page's meta viewport applies as on a phone. Full-page screenshots grow
// past the height. Between screenshots the browser works at the first.
var viewports = [...]struct {
	width, height int64
	mobile        bool
}{
	{1280, 800, false},
	{390, 844, true},
}

// Browser is a headless Chromium with a profile of its own, driven over the
// DevTools protocol for one test. Its methods are meant to be called from
// the test's goroutine; each one is bounded by Timeout and fails the test
// (with the page's URL, a screenshot and the console so far) when it errors
// or hangs, so scenarios read as straight-line code without error checks.
//
// While the test runs, Browser records every error the page reports:
// console.error and console.assert calls, uncaught exceptions and rejected
// promises, and error entries of the browser's own log (failed requests,
// blocked content, CSP violations). When the test ends, any of them that
// AllowConsole did not expect fails the test.
type Browser struct {
	// Timeout bounds each action. Default DefaultTimeout.
	Timeout time.Duration

	t    testing.TB
	base string
	ctx  context.Context // the tab; never carries a deadline of its own

	mu        sync.Mutex
	mainFrame cdp.FrameID
	status    int64 // HTTP status of the main frame's last document
	width     int64 // the viewport width emulated now
	problems  []string
	allowed   []string
	stopped   bool // the test is over: log nothing more to t
}

// NewBrowser starts a headless Chromium for t that resolves URLs starting
// with "/" against base (which may be empty). Most scenarios use
// Harness.Browser instead. The browser is closed when the test ends.
//
// It runs Debian's chromium from PATH and never downloads a browser. The
// flags are --headless --no-sandbox --disable-gpu
// --disable-background-networking --disable-component-update --no-first-run
// --disable-sync --disable-quic --user-data-dir=<fresh temporary directory>,
// plus what chromedp itself needs (--remote-debugging-pipe and about:blank),
// rather than chromedp's defaults, so that the browser under test is as close
// to a user's as a headless one can be. Debian's chromium is a launcher script
// that adds the flags of /etc/chromium.d as it does for every user.
func NewBrowser(t testing.TB, base string) *Browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the browser suite needs Debian's chromium on PATH (%v); install it with: apt-get install -y chromium", err)
	}
	b := &Browser{Timeout: DefaultTimeout, t: t, base: strings.TrimSuffix(base, "/")}

	profile := t.TempDir() // its cleanup runs after the browser has exited
	output := &lockedBuffer{}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(output),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.observe),
		chromedp.WithErrorf(b.logf),
	)
	b.ctx = ctx
	closeBrowser := func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
	}

	// The first action starts the browser and ties its life to the context
	// it is given, so it gets the tab's context; a watchdog stands in for
	// the timeout that context must not carry.
	started := make(chan struct{})
	go func() {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			cancelAlloc()
		}
	}()
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	close(started)
	if err != nil {
		closeBrowser()
		t.Fatalf("start %s: %v\n%s", path, err, output.String())
	}
	b.mu.Lock()
	b.mainFrame = tree.FrameTree.Frame.ID
	b.mu.Unlock()

	t.Cleanup(func() {
		b.checkConsole()
		closeBrowser()
	})
	b.setViewport(0)
	return b
}

// setViewport emulates the i-th of viewports.
func (b *Browser) setViewport(i int) {
	b.t.Helper()
	v := viewports[i]
	var opts []chromedp.EmulateViewportOption
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	b.do(fmt.Sprintf("set the viewport to %d px", v.width), chromedp.EmulateViewport(v.width, v.height, opts...))
	b.mu.Lock()
	b.width = v.width
	b.mu.Unlock()
}

// URL resolves a path starting with "/" against the browser's base URL and
// returns any other URL as it is.
func (b *Browser) URL(pathOrURL string) string {
	if strings.HasPrefix(pathOrURL, "/") && !strings.HasPrefix(pathOrURL, "//") {
		return b.base + pathOrURL
	}
	return pathOrURL
}

// Navigate opens a URL (or a path on Gatehouse) and waits until the page has
// loaded. A page with an error status still loads; check Status.
func (b *Browser) Navigate(pathOrURL string) {
	b.t.Helper()
	b.do(fmt.Sprintf("Navigate(%q)", pathOrURL), chromedp.Navigate(b.URL(pathOrURL)))
}

// Location returns the URL of the page the browser shows.
func (b *Browser) Location() string {
	b.t.Helper()
	return run(b, "Location()", chromedp.Location())
}

// Status returns the HTTP status of the document the browser shows (more
// exactly, of the last document the main frame received), or 0 before any.
func (b *Browser) Status() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int(b.status)
}

// WaitURL waits until the page's URL starts with prefix (a path is resolved
// as in Navigate) and the page has loaded, for navigations the page starts
// itself, such as a form submitted by a script.
func (b *Browser) WaitURL(prefix string) {
	b.t.Helper()
	prefix = b.URL(prefix)
	b.do(fmt.Sprintf("WaitURL(%q)", prefix), func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			// Errors are expected while a navigation replaces the document.
			href, err := chromedp.Evaluate[string](`document.readyState === "complete" ? location.href : ""`)(ctx, t)
			if err == nil && strings.HasPrefix(href, prefix) {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (b *Browser) WaitVisible(sel string) {
	b.t.Helper()
	b.do(fmt.Sprintf("WaitVisible(%q)", sel), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Fill replaces the value of the input matching the CSS selector by typing
// v into it, key by key, as a user would.
func (b *Browser) Fill(sel, v string) {
	b.t.Helper()
	quoted, _ := json.Marshal(sel)
	b.do(fmt.Sprintf("Fill(%q)", sel),
		chromedp.WaitVisible(chromedp.CSS(sel)),
		// chromedp.SetValue cannot set an empty value, and Clear only
		// resets the attribute, not what was typed.
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).value = ""`, quoted)),
		chromedp.SendKeys(chromedp.CSS(sel), v))
}

// Click clicks the element matching the CSS selector once it is visible. It
// does not wait for anything the click starts; use Submit for a click that
// loads a new page.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.do(fmt.Sprintf("Click(%q)", sel), chromedp.Click(chromedp.CSS(sel)))
}

// Submit clicks the element matching the CSS selector, typically a form's
// button, and waits until the page it leads to has loaded. It returns that
// page's HTTP status, as Status does afterwards.
func (b *Browser) Submit(sel string) int {
	b.t.Helper()
	what := fmt.Sprintf("Submit(%q)", sel)
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout())
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fail(what, err)
	}
	if resp == nil {
		b.fail(what, errors.New("the click loaded no new page"))
	}
	return int(resp.Status)
}

// Text returns the rendered text of the first element matching the CSS
// selector, as a user reads it, waiting for the element to exist.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return run(b, fmt.Sprintf("Text(%q)", sel), chromedp.Text(chromedp.CSS(sel)))
}

// Attr returns the value of an attribute of the first element matching the
// CSS selector, and whether it has that attribute.
func (b *Browser) Attr(sel, name string) (string, bool) {
	b.t.Helper()
	res := run(b, fmt.Sprintf("Attr(%q, %q)", sel, name), chromedp.AttributeValue(chromedp.CSS(sel), name))
	return res.Value, res.Exists
}

// Eval runs a JavaScript expression in the page, waits for it if it is a
// promise, and stores its JSON value in out, which may be nil to ignore it.
func (b *Browser) Eval(js string, out any) {
	b.t.Helper()
	what := fmt.Sprintf("Eval(%q)", js)
	if out == nil {
		run(b, what, chromedp.Evaluate[chromedp.Void](js, chromedp.EvalAwaitPromise))
		return
	}
	raw := run(b, what, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err := json.Unmarshal(raw, out); err != nil {
		b.fail(what, fmt.Errorf("decode %s: %w", raw, err))
	}
}

// Cookies returns every cookie the browser holds, HttpOnly ones included.
func (b *Browser) Cookies() []*network.Cookie {
	b.t.Helper()
	res := run(b, "Cookies()", func(ctx context.Context, _ *chromedp.Target) (storage.GetCookiesResult, error) {
		return chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
	})
	return res.Cookies
}

// Cookie returns the cookie with the given name, or nil when the browser
// holds none.
func (b *Browser) Cookie(name string) *network.Cookie {
	b.t.Helper()
	for _, c := range b.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// AllowConsole tolerates the page errors whose text contains substr, for a
// scenario that provokes one on purpose; the browser logs a failed request,
// such as a page answered with 403, as an error. Tolerated errors are still
// shown in the test's log.
func (b *Browser) AllowConsole(substr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, substr)
}

// Screenshot saves full-page PNGs of the current page at each width, as
// e2e/screenshots/<test>-<name>-<width>.png, and returns to the laptop width.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	for i, v := range viewports {
		b.setViewport(i)
		what := fmt.Sprintf("Screenshot(%q) at %d px", name, v.width)
		png := run(b, what, fullPage)
		if _, err := b.save(name, v.width, png); err != nil {
			b.t.Fatalf("%s: %v", what, err)
		}
	}
	b.setViewport(0)
}

// fullPage captures the whole page, not only the viewport, as PNG.
func fullPage(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		return nil, err
	}
	clip := &page.Viewport{Scale: 1}
	if vp := m.CSSLayoutViewport; vp != nil {
		clip.Width, clip.Height = float64(vp.ClientWidth), float64(vp.ClientHeight)
	}
	if size := m.CSSContentSize; size != nil {
		clip.Width = math.Max(clip.Width, math.Ceil(size.Width))
		clip.Height = math.Max(clip.Height, math.Ceil(size.Height))
	}
	res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		Clip:                  clip,
		CaptureBeyondViewport: new(true),
		FromSurface:           new(true),
	})
	return res.Data, err
}

// screenshotDir is e2e/screenshots next to this file, wherever the test
// runs from, or ./screenshots when the source path is unknown (-trimpath).
func screenshotDir() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "screenshots")
	}
	return "screenshots"
}

func (b *Browser) save(name string, width int64, png []byte) (string, error) {
	dir := screenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	file := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", fileName(b.t.Name()), fileName(name), width))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		return "", err
	}
	b.t.Logf("screenshot %s", file)
	return file, nil
}

// fileName keeps letters, digits, dots, dashes and underscores, and turns
// the slashes of subtest names into dashes.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '/':
			return '-'
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

func (b *Browser) timeout() time.Duration {
	if b.Timeout > 0 {
		return b.Timeout
	}
	return DefaultTimeout
}

// do runs actions within the timeout and fails the test if they fail.
func (b *Browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	run(b, what, chromedp.Steps(actions...))
}

// run runs one action within b's timeout and fails the test if it fails.
func run[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout())
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// fail ends the test with what the browser was doing, the page it was on, a
// screenshot of that page and the errors it had reported.
func (b *Browser) fail(what string, err error) {
	b.t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v", b.timeout())
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%s: %v", what, err)

	// The tab may be stuck, so the diagnosis gets deadlines of its own.
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	href, lerr := chromedp.Run(ctx, chromedp.Location())
	cancel()
	if lerr != nil {
		href = "unknown (" + lerr.Error() + ")"
	}
	fmt.Fprintf(&report, "\n\tpage: %s (status %d)", href, b.Status())
	ctx, cancel = context.WithTimeout(b.ctx, 3*time.Second)
	png, serr := chromedp.Run(ctx, fullPage)
	cancel()
	if serr == nil {
		var file string
		b.mu.Lock()
		width := b.width
		b.mu.Unlock()
		if file, serr = b.save("failure", width, png); serr == nil {
			fmt.Fprintf(&report, "\n\tscreenshot: %s", file)
		}
	}
	if serr != nil {
		fmt.Fprintf(&report, "\n\tno screenshot: %v", serr)
	}
	b.mu.Lock()
	for _, p := range b.problems {
		fmt.Fprintf(&report, "\n\tpage error: %s", p)
	}
	b.mu.Unlock()
	b.t.Fatal(report.String())
}

// logf passes chromedp's own error reports to the test's log.
func (b *Browser) logf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.stopped {
		b.t.Logf("chromedp: "+format, args...)
	}
}

// lockedBuffer collects the browser's output, written from another
// goroutine, for the message of a browser that does not start.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
