package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Link is a one-time login link minted by a running dashboard.
type Link struct {
	// URL opens the dashboard signed in, once. It holds the token in its
	// fragment: print it only to the user who asked, never to a log.
	URL string
	// Home is the dashboard's address without any token, safe to print.
	Home string
	// ExpiresIn is how long URL can be used.
	ExpiresIn time.Duration
}

// ErrKeyRefused is returned by RequestLink when the dashboard refused key.
var ErrKeyRefused = errors.New("the dashboard refused the gateway key")

// RequestLink asks the dashboard at base (http://host:port) for a one-time
// login link, proving itself with the gateway key. This is what
// `flowgate ui` runs.
func RequestLink(ctx context.Context, base, key string) (Link, error) {
	base = strings.TrimRight(base, "/")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+LinkPath, nil)
	if err != nil {
		return Link{}, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Link{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = fmt.Sprintf("%s answered %d; is that the gateway's dashboard?", base+LinkPath, resp.StatusCode)
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return Link{}, fmt.Errorf("%w: %s", ErrKeyRefused, e.Error)
		}
		return Link{}, errors.New(e.Error)
	}
	var lr LinkResponse
	if err := json.Unmarshal(body, &lr); err != nil || !strings.HasPrefix(lr.Path, "/ui/login#once=") {
		return Link{}, fmt.Errorf("%s answered something that is not a dashboard link; is that the gateway's dashboard?", base+LinkPath)
	}
	return Link{URL: base + lr.Path, Home: base + Prefix, ExpiresIn: time.Duration(lr.ExpiresIn) * time.Second}, nil
}
