//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// ColorScheme makes the browser report scheme, "light" or "dark", as the
// user's preferred colour scheme (the prefers-color-scheme media feature)
// to this page and the pages after it, until it is called again; "" returns
// to the browser's own preference. Screenshots taken meanwhile show the page
// in that scheme.
func (b *Browser) ColorScheme(scheme string) {
	b.t.Helper()
	params := emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}
	b.do(fmt.Sprintf("ColorScheme(%q)", scheme), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, params)
		return err
	}))
}

// Scripts turns the running of the pages' scripts on or off, from the next
// page on, until it is called again, to see a page as a browser without
// JavaScript shows it, or to stop one that moves on by itself.
func (b *Browser) Scripts(on bool) {
	b.t.Helper()
	params := emulation.SetScriptExecutionDisabledParams{Value: !on}
	b.do(fmt.Sprintf("Scripts(%v)", on), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, params)
		return err
	}))
}

// Keys types keys, such as "\t" for Tab and "\r" for Enter, into whatever
// has the keyboard focus, as a user would.
func (b *Browser) Keys(keys string) {
	b.t.Helper()
	b.do(fmt.Sprintf("Keys(%q)", keys), chromedp.KeyEvent(keys))
}

// PhoneOverflow lays the page out at the phone width of Screenshot and
// returns "" when it fits, with no horizontal scrolling, or else how much
// wider it is and the outermost elements that stick out, for a test
// failure. It returns to the laptop width.
func (b *Browser) PhoneOverflow() string {
	b.t.Helper()
	b.setViewport(1)
	defer b.setViewport(0)
	// A phone's browser widens the layout to fit content that is too wide
	// and zooms out, so window.innerWidth can exceed the phone's width.
	var over string
	b.Eval(fmt.Sprintf(`(() => {
		const width = Math.min(window.innerWidth, %d), scroll = document.documentElement.scrollWidth;
		if (scroll <= width) return "";
		const out = [];
		for (const el of document.body.querySelectorAll("*")) {
			const r = el.getBoundingClientRect();
			if (r.right <= width + 0.5 || (el.parentElement && el.parentElement.getBoundingClientRect().right > width + 0.5)) continue;
			let name = el.tagName.toLowerCase();
			if (el.id) name += "#" + el.id;
			for (const c of el.classList) name += "." + c;
			out.push(name + " to " + Math.round(r.right) + " px");
			if (out.length === 5) break;
		}
		return "the page is " + scroll + " px wide on a " + width + " px screen: " + out.join(", ");
	})()`, viewports[1].width), &over)
	return strings.TrimSpace(over)
}
