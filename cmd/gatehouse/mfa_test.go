package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store"
)

// scriptCmds are the testscript commands that reach into the script's
// database for what no gatehouse command does.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"totp-on": cmdTOTPOn,
	"outbox":  cmdOutbox,
}

// openScriptStore opens the database of the running script.
func openScriptStore(ts *testscript.TestScript) store.Store {
	st, err := store.Open(context.Background(), ts.Getenv("GATEHOUSE_DATABASE_URL"))
	ts.Check(err)
	return st
}

// cmdTOTPOn turns two-step verification on for a user (by username or
// email), as a confirmed enrolment with one recovery code. The secret is not
// a real sealed one: the scripts only reset it, never sign in with it.
//
//	totp-on USER
func cmdTOTPOn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: totp-on USER")
	}
	ctx := context.Background()
	st := openScriptStore(ts)
	defer st.Close()
	u, err := st.FindUserByLogin(ctx, args[0])
	ts.Check(err)
	ts.Check(st.SaveTOTP(ctx, &auth.TOTPSecret{UserID: u.ID, Sealed: []byte("not a real sealed secret")}))
	ts.Check(st.ConfirmTOTP(ctx, u.ID, 1, [][]byte{[]byte("recovery code hash")}, time.Now()))
}

// cmdOutbox prints the outbox, oldest first, one mail a line: its kind and
// its address.
//
//	outbox
func cmdOutbox(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: outbox")
	}
	st := openScriptStore(ts)
	defer st.Close()
	mails, err := st.FindMails(context.Background(), 100)
	ts.Check(err)
	slices.Reverse(mails)
	for _, m := range mails {
		fmt.Fprintf(ts.Stdout(), "%s %s\n", m.Kind, m.To)
	}
}
