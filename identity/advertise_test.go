package identity_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kafkatls/kafkatls/identity"
)

func TestParseAdvertise(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want identity.Advertise
		ok   bool
	}{
		{"broker1.example.com", identity.Advertise{Host: "broker1.example.com"}, true},
		{"Broker1.Example.com.:9095", identity.Advertise{Host: "broker1.example.com", Port: 9095}, true},
		{"10.0.0.7", identity.Advertise{Host: "10.0.0.7"}, true},
		{"10.0.0.7:19093", identity.Advertise{Host: "10.0.0.7", Port: 19093}, true},
		{"fd00::1", identity.Advertise{Host: "fd00::1"}, true},
		{"[fd00::1]:9093", identity.Advertise{Host: "fd00::1", Port: 9093}, true},
		{"", identity.Advertise{}, false},
		{":9093", identity.Advertise{}, false},
		{"host:0", identity.Advertise{}, false},
		{"host:65536", identity.Advertise{}, false},
		{"host:x", identity.Advertise{}, false},
		{"a b", identity.Advertise{}, false},
		{"*.example.com", identity.Advertise{}, false},
		{"[fd00::1]", identity.Advertise{Host: "fd00::1"}, true},
		{"[kafka-1]", identity.Advertise{}, false},
		{"fe80::1%eth0", identity.Advertise{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := identity.ParseAdvertise(tc.in)
			if tc.ok {
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
				if again, err := identity.ParseAdvertise(got.String()); err != nil || again != got {
					t.Errorf("String %q does not parse back: %+v, %v", got.String(), again, err)
				}
				return
			}
			var ae *identity.AdvertiseError
			if !errors.As(err, &ae) || ae.Value != tc.in {
				t.Fatalf("got %+v, %v; want an AdvertiseError for %q", got, err, tc.in)
			}
		})
	}
}

func TestUnresolved(t *testing.T) {
	// .invalid never resolves (RFC 6761); localhost and IP addresses do
	// (IPs are not looked up at all).
	got := identity.Unresolved(context.Background(), []string{"localhost", "broker.kafkatls.invalid", "10.0.0.7", "b2.kafkatls.invalid"}, 5*time.Second)
	if want := []string{"broker.kafkatls.invalid", "b2.kafkatls.invalid"}; !slices.Equal(got, want) {
		t.Errorf("Unresolved = %v, want %v", got, want)
	}
}
