package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian installs Chromium; scripts/test.sh installs it.
const chromiumPath = "/usr/bin/chromium"

// waitTimeout bounds every wait for the page. It only stops a broken test.
const waitTimeout = 30 * time.Second

// browser is one headless Chromium with one tab. It records every console message,
// uncaught exception and browser log entry, and the URL of every request.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	requests []string
	// outages are ranges [from, to) of message positions during which the server was down
	// on purpose, so the browser's own network errors are expected there.
	outages [][2]int
}

// startBrowser starts Chromium with the flags that work in this environment and a fresh
// profile. The browser stops when the test ends.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("chromium not found at %s: %v; install it with apt-get install chromium "+
			"(scripts/test.sh does)", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	if err := chromedp.Listen(ctx, func(ev any) {
		if sent, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.requests = append(b.requests, sent.Request.URL)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("listen for requests: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.messages = append(b.messages, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-done
	})
	return b
}

// do runs steps with a time limit.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression and decodes its JSON value into v.
func (b *browser) eval(expression string, v any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expression))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expression, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("decode the value of %s: %v: %s", expression, err, raw)
	}
}

// dashboardState is the page's window.fitbridgeDashboard.state().
type dashboardState struct {
	Connection string            `json:"connection"`
	Epoch      string            `json:"epoch"`
	LastSeq    map[string]*int64 `json:"lastSeq"`
	Counters   struct {
		Connects  int   `json:"connects"`
		Snapshots int   `json:"snapshots"`
		Resumes   int   `json:"resumes"`
		Gaps      int   `json:"gaps"`
		Closes    []int `json:"closes"`
	} `json:"counters"`
	Session *struct {
		ID         string `json:"id"`
		Running    bool   `json:"running"`
		TotalCoins int    `json:"totalCoins"`
	} `json:"session"`
	Leaderboard []struct {
		ID    string `json:"id"`
		Coins int    `json:"coins"`
	} `json:"leaderboard"`
	Equipment         []string     `json:"equipment"`
	Charts            []chartState `json:"charts"`
	Zoomed            bool         `json:"zoomed"`
	ZoomInterval      *int64       `json:"zoomInterval"`
	LiveRequests      int          `json:"liveRequests"`
	FitnessLength     int          `json:"fitnessLength"`
	FitnessFirstIndex *int         `json:"fitnessFirstIndex"`
}

// chartState is one chart of dashboardState.
type chartState struct {
	ID       string   `json:"id"`
	Points   int      `json:"points"`
	Nulls    int      `json:"nulls"`
	Values   int      `json:"values"`
	Max      *float64 `json:"max"`
	Dropouts int      `json:"dropouts"`
	Zones    []string `json:"zones"`
	XMin     float64  `json:"xMin"`
	XMax     float64  `json:"xMax"`
	Width    float64  `json:"width"`
	Height   float64  `json:"height"`
}

func (b *browser) state() dashboardState {
	b.t.Helper()
	var s dashboardState
	b.eval(`window.fitbridgeDashboard.state()`, &s)
	return s
}

// waitState polls the page's state until cond holds, and fails the test with the last
// state after waitTimeout.
func (b *browser) waitState(what string, cond func(dashboardState) bool) dashboardState {
	b.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		var ready bool
		b.eval(`typeof window.fitbridgeDashboard === 'object'`, &ready)
		if ready {
			s := b.state()
			if cond(s) {
				return s
			}
			if time.Now().After(deadline) {
				data, _ := json.MarshalIndent(s, "", " ")
				b.t.Fatalf("timed out waiting for %s; page state:\n%s\nconsole:\n%s",
					what, data, b.consoleText())
			}
		} else if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for the dashboard script; console:\n%s", b.consoleText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// problems returns the console messages and browser log entries of type error, warning or
// exception. It leaves out the browser's network errors during an outage: a browser logs
// every failed connection attempt, which a page cannot prevent while its server is down.
func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for i, m := range b.messages {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException &&
			m.Type != chromedp.ConsoleWarning {
			continue
		}
		if m.Source == "network" && b.inOutage(i) {
			continue
		}
		out = append(out, m.String())
	}
	return out
}

func (b *browser) inOutage(position int) bool {
	for _, o := range b.outages {
		if position >= o[0] && position < o[1] {
			return true
		}
	}
	return false
}

// outage runs stop, which takes the server down on purpose and brings it back, and marks
// the console messages logged meanwhile as an outage. A browser logs them some time after
// the failed request, so the window ends when ready reports the page connected again.
func (b *browser) outage(stop func(), ready func()) {
	b.mu.Lock()
	from := len(b.messages)
	b.mu.Unlock()
	stop()
	ready()
	b.mu.Lock()
	b.outages = append(b.outages, [2]int{from, len(b.messages)})
	b.mu.Unlock()
}

func (b *browser) consoleText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []string
	for _, m := range b.messages {
		lines = append(lines, fmt.Sprintf("%s: %s", m.Type, m.String()))
	}
	return strings.Join(lines, "\n")
}

// checkNoProblems fails the test for every console error, warning or exception so far.
func (b *browser) checkNoProblems() {
	b.t.Helper()
	for _, p := range b.problems() {
		b.t.Errorf("browser console: %s", p)
	}
}

// checkRequestsStayOn fails the test for every request to another origin than prefix.
func (b *browser) checkRequestsStayOn(prefix string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		b.t.Errorf("no request was recorded, so the origin check did not run")
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, prefix) {
			b.t.Errorf("the page requested %s, outside %s", u, prefix)
		}
	}
}

// rect returns the page rectangle of the first element matching selector.
func (b *browser) rect(selector string) (x, y, width, height float64) {
	b.t.Helper()
	var r struct{ X, Y, Width, Height float64 }
	b.eval(fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		return {X: r.left, Y: r.top, Width: r.width, Height: r.height}; })()`, selector), &r)
	return r.X, r.Y, r.Width, r.Height
}

// drag presses the left button at (x1, y), moves to (x2, y) in steps and releases it.
func (b *browser) drag(x1, x2, y float64) {
	b.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(chromedp.MouseMoved, x1, y),
		chromedp.MouseEvent(chromedp.MousePressed, x1, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	}
	for i := 1; i <= 10; i++ {
		x := x1 + (x2-x1)*float64(i)/10
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x, y, chromedp.ButtonLeft))
	}
	steps = append(steps,
		chromedp.MouseEvent(chromedp.MouseReleased, x2, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	b.do(steps...)
}

// doubleClick moves the pointer to (x, y) and sends the press and release pairs of a
// double-click there.
func (b *browser) doubleClick(x, y float64) {
	b.t.Helper()
	b.do(
		chromedp.MouseEvent(chromedp.MouseMoved, x, y),
		chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(2)),
		chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(2)),
	)
}

// screenshot saves a PNG of the whole page in the test's artifact folder (kept with
// go test -artifacts) and returns its bytes.
func (b *browser) screenshot(name string) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	data, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(b.t.ArtifactDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.t.Fatalf("save screenshot: %v", err)
	}
	b.t.Logf("screenshot saved to %s", path)
	return data
}

// layout is the geometry the layout checks need.
type layout struct {
	ViewportWidth    float64 `json:"viewportWidth"`
	ScrollWidth      float64 `json:"scrollWidth"`
	ChartColumns     int     `json:"chartColumns"`
	LeaderboardTop   float64 `json:"leaderboardTop"`
	ChartsTop        float64 `json:"chartsTop"`
	LeaderboardLeft  float64 `json:"leaderboardLeft"`
	ChartsLeft       float64 `json:"chartsLeft"`
	WidestChartRight float64 `json:"widestChartRight"`
}

func (b *browser) layout() layout {
	b.t.Helper()
	var l layout
	b.eval(`(() => {
		const box = (s) => document.querySelector(s).getBoundingClientRect();
		const charts = [...document.querySelectorAll('.chart canvas')];
		return {
			viewportWidth: window.innerWidth,
			scrollWidth: document.documentElement.scrollWidth,
			chartColumns: getComputedStyle(document.getElementById('charts'))
				.gridTemplateColumns.split(' ').length,
			leaderboardTop: box('.leaderboard-panel').top,
			chartsTop: box('.charts-panel').top,
			leaderboardLeft: box('.leaderboard-panel').left,
			chartsLeft: box('.charts-panel').left,
			widestChartRight: Math.max(0, ...charts.map((c) => c.getBoundingClientRect().right)),
		};
	})()`, &l)
	return l
}
