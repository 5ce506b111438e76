package cliproxy

import (
	"os"
	"os/exec"
	goruntime "runtime"
)

// HasDisplay reports whether a browser can be opened on this machine: always
// on macOS and Windows, on other systems when DISPLAY or WAYLAND_DISPLAY is set.
func HasDisplay() bool {
	switch goruntime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// OpenBrowser asks the desktop to open url (open, xdg-open or
// rundll32) and does not wait for the browser.
func OpenBrowser(url string) error {
	var cmd *exec.Cmd
	switch goruntime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
