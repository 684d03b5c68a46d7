// Command loadgen sends GET requests to one URL at a constant rate and
// prints the latency distribution as JSON: the load generator of api's
// benchmark, run as a separate process so that its work does not share
// the server's Go runtime.
//
// The rate is open-loop: request i is due at start + i/rate whether or not
// earlier ones have answered, and its latency is measured from when it was
// due, so a server that falls behind shows it (no coordinated omission).
//
//	loadgen -url http://127.0.0.1:8080/api/v1/status -rate 1000 -duration 10s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

// Result is what loadgen prints.
type Result struct {
	URL         string  `json:"url"`
	Rate        int     `json:"rate"`
	Requests    int     `json:"requests"`
	OK          int     `json:"ok"`     // 200 or 503: /api/v1/status answered
	Errors      int     `json:"errors"` // transport errors and other codes
	AchievedRPS float64 `json:"achieved_rps"`
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
	Maxms       float64 `json:"max_ms"`
	FirstError  string  `json:"first_error,omitempty"`
}

func main() {
	url := flag.String("url", "", "URL to GET")
	rate := flag.Int("rate", 1000, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	workers := flag.Int("workers", 256, "concurrent requests at most")
	token := flag.String("token", "", "bearer token")
	timeout := flag.Duration("timeout", 10*time.Second, "timeout of each request")
	flag.Parse()
	if *url == "" || *rate < 1 || *duration <= 0 || *workers < 1 {
		flag.Usage()
		os.Exit(2)
	}
	res := run(*url, *token, *rate, *duration, *workers, *timeout)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(url, token string, rate int, duration time.Duration, workers int, timeout time.Duration) Result {
	n := int(float64(rate) * duration.Seconds())
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{
		MaxIdleConns: workers, MaxIdleConnsPerHost: workers, IdleConnTimeout: time.Minute}}
	interval := time.Second / time.Duration(rate)
	start := time.Now().Add(100 * time.Millisecond)
	due := make(chan int, n)
	for i := range n {
		due <- i
	}
	close(due)
	lat := make([]time.Duration, n)
	codes := make([]int, n)
	var mu sync.Mutex
	var firstErr string
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range due {
				at := start.Add(time.Duration(i) * interval)
				time.Sleep(time.Until(at))
				code, err := get(client, url, token)
				lat[i] = time.Since(at)
				codes[i] = code
				if err != nil {
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := Result{URL: url, Rate: rate, Requests: n, AchievedRPS: float64(n) / elapsed.Seconds(), FirstError: firstErr}
	for _, c := range codes {
		if c == http.StatusOK || c == http.StatusServiceUnavailable {
			res.OK++
		} else {
			res.Errors++
		}
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	if n > 0 {
		res.P50ms, res.P90ms, res.P99ms, res.Maxms = q(.50), q(.90), q(.99), q(1)
	}
	return res
}

func get(client *http.Client, url, token string) (int, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}
