package main

import "github.com/flowgate/flowgate/internal/cli"

func run(args []string) int { return cli.Main(args) }
