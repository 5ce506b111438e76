// Command flowgate is the FlowGate local LLM gateway and its operator CLI.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:]))
}
