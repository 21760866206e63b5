package testbroker

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// metadataFor sends one Metadata request naming topics, with
// AllowAutoTopicCreation as given, and returns each topic's error code.
func metadataCodes(ctx context.Context, t *testing.T, cl *kgo.Client, auto bool, topics ...string) map[string]int16 {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = auto
	for _, name := range topics {
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, mt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("Metadata %v: %v", topics, err)
	}
	codes := map[string]int16{}
	for _, rt := range resp.Topics {
		if rt.Topic == nil {
			t.Fatalf("Metadata %v: a topic without a name in %+v", topics, resp.Topics)
		}
		if _, dup := codes[*rt.Topic]; dup {
			t.Fatalf("Metadata %v: %s answered twice", topics, *rt.Topic)
		}
		codes[*rt.Topic] = rt.ErrorCode
	}
	return codes
}

// TestAutoCreateTopics: as on a default Kafka broker, a producer's first
// write to a missing topic creates it (one partition, num.partitions=1) and
// the record can be consumed back; a Metadata request that does not allow
// auto-creation does not create.
func TestAutoCreateTopics(t *testing.T) {
	e := start(t, nil)
	cert := e.ca.issue(t, leafOpts{cn: "client1"})
	ctx := testCtx(t)

	plain := e.client(t, &cert, nil)
	if codes := metadataCodes(ctx, t, plain, false, "not-asked"); codes["not-asked"] != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("Metadata without AllowAutoTopicCreation: %v", codes)
	}
	if e.broker.cluster.TopicInfo("not-asked") != nil {
		t.Fatal("a Metadata request without AllowAutoTopicCreation created the topic")
	}

	cl := e.client(t, &cert, nil, kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("first")}).FirstErr(); err != nil {
		t.Fatalf("produce to a new topic: %v", err)
	}
	if e.broker.cluster.TopicInfo("orders") == nil {
		t.Fatal("orders was not created")
	}
	if e.broker.cluster.PartitionInfo("orders", 0) == nil || e.broker.cluster.PartitionInfo("orders", 1) != nil {
		t.Fatal("orders was not created with exactly one partition")
	}
	recs, errs := pollUntil(ctx, t, cl)
	if len(errs) > 0 || len(recs) != 1 || string(recs[0].Value) != "first" {
		t.Fatalf("consume orders: recs=%v errs=%v", recs, errs)
	}
}

// TestNoAutoCreateTopics: with NoAutoCreateTopics (auto.create.topics.enable
// =false) a missing topic stays missing, whatever the client asks.
func TestNoAutoCreateTopics(t *testing.T) {
	e := start(t, func(c *Config) { c.NoAutoCreateTopics = true })
	cert := e.ca.issue(t, leafOpts{cn: "client1"})
	ctx := testCtx(t)
	cl := e.client(t, &cert, nil, kgo.AllowAutoTopicCreation(), kgo.UnknownTopicRetries(0))

	if codes := metadataCodes(ctx, t, cl, true, "orders", "kafkatls-probe"); codes["orders"] != kerr.UnknownTopicOrPartition.Code || codes["kafkatls-probe"] != 0 {
		t.Fatalf("Metadata with AllowAutoTopicCreation: %v", codes)
	}
	err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("lost")}).FirstErr()
	if !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("produce to a missing topic: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
	if e.broker.cluster.TopicInfo("orders") != nil {
		t.Fatal("orders was created with auto-creation off")
	}
}

// TestACLAutoCreateNeedsCreate: with ACLs, auto-creation follows Kafka's
// handleTopicMetadataRequest: Describe on the topic, then, for a missing
// topic, Create on the cluster or on the topic (literal or prefixed); a
// principal lacking either gets TOPIC_AUTHORIZATION_FAILED and the topic is
// not created.
func TestACLAutoCreateNeedsCreate(t *testing.T) {
	const p = "User:CN=app"
	describe := ACL{Principal: p, Resource: Topic, Name: "orders", Operation: Describe}
	write := ACL{Principal: p, Resource: Topic, Name: "orders", Operation: Write}
	for _, tc := range []struct {
		name    string
		acls    []ACL
		created bool
	}{
		{"write without create", []ACL{write}, false},
		{"create on the topic", []ACL{describe, {Principal: p, Resource: Topic, Name: "orders", Operation: Create}}, true},
		{"create prefixed", []ACL{write, {Principal: p, Resource: Topic, Name: "ord", Prefixed: true, Operation: Create}}, true},
		{"create on the cluster", []ACL{describe, {Principal: p, Resource: Cluster, Name: ClusterName, Operation: Create}}, true},
		{"create on another topic", []ACL{write, {Principal: p, Resource: Topic, Name: "other", Operation: Create}}, false},
		{"create without describe", []ACL{{Principal: p, Resource: Topic, Name: "orders", Operation: Create}}, false},
		{"all on the cluster only", []ACL{{Principal: p, Resource: Cluster, Name: "*", Operation: All}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, func(c *Config) { c.ACLs = NewACLs(tc.acls...) })
			cert := e.ca.issue(t, leafOpts{cn: "app"})
			ctx := testCtx(t)
			cl := e.client(t, &cert, nil)

			codes := metadataCodes(ctx, t, cl, true, "orders")
			want := int16(0)
			if !tc.created {
				want = codeTopic
			}
			if codes["orders"] != want || len(codes) != 1 {
				t.Fatalf("Metadata(orders, auto-create): %v, want orders=%d", codes, want)
			}
			if got := e.broker.cluster.TopicInfo("orders") != nil; got != tc.created {
				t.Fatalf("orders created: %v, want %v", got, tc.created)
			}
			if !tc.created && len(e.broker.Denials()) != 1 {
				t.Fatalf("denials: %+v, want exactly one", e.broker.Denials())
			}
		})
	}
}

// TestACLAutoCreateMixedRequest: one Metadata request naming an existing
// topic, a creatable one and one the principal may not create gets each
// answered on its own; a request whose every topic is refused lists no other
// topic (the emptied request must not turn into "all topics") and answers a
// topic named twice once.
func TestACLAutoCreateMixedRequest(t *testing.T) {
	const p = "User:CN=app"
	e := start(t, func(c *Config) {
		c.Topics = []string{"existing", "secret"}
		c.ACLs = NewACLs(
			ACL{Principal: p, Resource: Topic, Name: "existing", Operation: Read},
			ACL{Principal: p, Resource: Topic, Name: "new-", Prefixed: true, Operation: All},
			ACL{Principal: p, Resource: Topic, Name: "nocreate", Operation: Write},
		)
	})
	cert := e.ca.issue(t, leafOpts{cn: "app"})
	ctx := testCtx(t)
	cl := e.client(t, &cert, nil)

	codes := metadataCodes(ctx, t, cl, true, "existing", "new-a", "nocreate", "secret")
	want := map[string]int16{"existing": 0, "new-a": 0, "nocreate": codeTopic, "secret": codeTopic}
	if !mapsEqual(codes, want) {
		t.Fatalf("Metadata codes %v, want %v", codes, want)
	}
	codes = metadataCodes(ctx, t, cl, true, "nocreate", "hidden", "nocreate")
	want = map[string]int16{"nocreate": codeTopic, "hidden": codeTopic}
	if !mapsEqual(codes, want) {
		t.Fatalf("all-refused Metadata codes %v, want %v", codes, want)
	}
	for _, name := range []string{"nocreate", "hidden"} {
		if e.broker.cluster.TopicInfo(name) != nil {
			t.Errorf("%s was created", name)
		}
	}
	if e.broker.cluster.TopicInfo("new-a") == nil {
		t.Error("new-a was not created")
	}
	if !slices.ContainsFunc(e.broker.Denials(), func(d Denial) bool {
		return d.API == "Metadata" && d.Name == "nocreate" && d.Operation == Create
	}) {
		t.Errorf("no Create denial recorded for nocreate: %+v", e.broker.Denials())
	}

	// A producer lacking Create gets the authorization error, not a hang.
	prod := e.client(t, &cert, nil, kgo.AllowAutoTopicCreation())
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "nocreate", Value: []byte("x")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce to nocreate: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "new-b", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce to new-b (Create granted by prefix): %v", err)
	}
}

func mapsEqual(a, b map[string]int16) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
