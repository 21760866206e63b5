package testbroker

import (
	"context"
	"crypto/tls"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	principalA = "User:CN=alice,OU=apps"
	principalB = "User:CN=bob,OU=apps"
	principalC = "User:CN=carol,OU=apps"
)

// aclEnv: alice may write and read t1 and use group ga; bob may describe t1,
// write and read t2 and use groups gb*; carol has no ACLs.
type aclEnv struct {
	*env
	alice, bob, carol tls.Certificate
}

func startACL(t *testing.T) *aclEnv {
	t.Helper()
	e := start(t, func(c *Config) {
		c.Topics = []string{"t1", "t2"}
		c.Partitions = 2
		c.ACLs = NewACLs(
			ACL{Principal: principalA, Resource: Topic, Name: "t1", Operation: Write},
			ACL{Principal: principalA, Resource: Topic, Name: "t1", Operation: Read},
			ACL{Principal: principalA, Resource: Group, Name: "ga", Operation: Read},
			ACL{Principal: principalB, Resource: Topic, Name: "t1", Operation: Describe},
			ACL{Principal: principalB, Resource: Topic, Name: "t2", Operation: All},
			ACL{Principal: principalB, Resource: Group, Name: "gb", Prefixed: true, Operation: Read},
		)
	})
	ae := &aclEnv{env: e}
	ae.alice = e.ca.issue(t, leafOpts{cn: "alice", ou: "apps"})
	ae.bob = e.ca.issue(t, leafOpts{cn: "bob", ou: "apps"})
	ae.carol = e.ca.issue(t, leafOpts{cn: "carol", ou: "apps"})
	return ae
}

func (e *aclEnv) hasDenial(p, api string, rt ResourceType, name string, op Operation) bool {
	return slices.ContainsFunc(e.broker.Denials(), func(d Denial) bool {
		return d.Principal == p && d.API == api && d.Resource == rt && d.Name == name && d.Operation == op
	})
}

// pollUntil polls until it has a record or a fetch error, bounded by ctx.
func pollUntil(ctx context.Context, t *testing.T, cl *kgo.Client) ([]*kgo.Record, []kgo.FetchError) {
	t.Helper()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("nothing fetched before the deadline: %v", ctx.Err())
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return fs.Records(), errs
		}
		if recs := fs.Records(); len(recs) > 0 {
			return recs, nil
		}
	}
}

func TestACLAllowedClientProducesAndConsumesInGroup(t *testing.T) {
	e := startACL(t)
	ctx := testCtx(t)
	cl := e.client(t, &e.alice, nil,
		kgo.ConsumeTopics("t1"),
		kgo.ConsumerGroup("ga"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit())

	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t1", Value: []byte("v1")}).FirstErr(); err != nil {
		t.Fatalf("alice produce t1: %v", err)
	}
	recs, errs := pollUntil(ctx, t, cl)
	if len(errs) > 0 || len(recs) != 1 || string(recs[0].Value) != "v1" {
		t.Fatalf("alice consume t1: recs=%v errs=%v", recs, errs)
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("alice commit: %v", err)
	}

	// The committed offset is visible to alice.
	of := kmsg.NewPtrOffsetFetchRequest()
	of.Group = "ga"
	ot := kmsg.NewOffsetFetchRequestTopic()
	ot.Topic, ot.Partitions = "t1", []int32{recs[0].Partition}
	of.Topics = append(of.Topics, ot)
	ofr, err := of.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	offsets := offsetFetchPartitions(ofr)
	if len(offsets) != 1 || offsets[0].ErrorCode != 0 || offsets[0].Offset != recs[0].Offset+1 {
		t.Fatalf("offset fetch: %+v", ofr)
	}

	// alice may not touch t2: metadata listing hides it.
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if names := metaTopics(meta); !slices.Equal(names, []string{"t1"}) {
		t.Fatalf("alice sees topics %v; want [t1]", names)
	}
	if len(e.broker.Denials()) != 0 {
		t.Fatalf("unexpected denials: %+v", e.broker.Denials())
	}
}

func TestACLProduceWithoutWrite(t *testing.T) {
	e := startACL(t)
	ctx := testCtx(t)
	cl := e.client(t, &e.bob, nil)

	// One batch per topic, possibly in one request: t2 is written, t1 is not.
	res := cl.ProduceSync(ctx,
		&kgo.Record{Topic: "t1", Value: []byte("x")},
		&kgo.Record{Topic: "t2", Value: []byte("y")})
	for _, r := range res {
		switch r.Record.Topic {
		case "t1":
			if !errors.Is(r.Err, kerr.TopicAuthorizationFailed) {
				t.Errorf("bob produce t1: err = %v; want TOPIC_AUTHORIZATION_FAILED", r.Err)
			}
		case "t2":
			if r.Err != nil {
				t.Errorf("bob produce t2: %v", r.Err)
			}
		}
	}
	if !e.hasDenial(principalB, "Produce", Topic, "t1", Write) {
		t.Errorf("denial not recorded: %+v", e.broker.Denials())
	}

	// The raw answer carries per-partition error 29 for t1 only, and only
	// t2 is written.
	meta := metadataFor(ctx, t, cl, "t1", "t2")
	hw1, hw2 := e.partitionHW(t, "t1", 1), e.partitionHW(t, "t2", 1)
	req := kmsg.NewPtrProduceRequest()
	req.Acks = -1
	req.TimeoutMillis = 5000
	for _, topic := range []string{"t1", "t2"} {
		pt := kmsg.NewProduceRequestTopic()
		pt.Topic, pt.TopicID = topic, meta[topic]
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Partition = 1
		pp.Records = recordBatch([]byte("raw"))
		pt.Partitions = append(pt.Partitions, pp)
		req.Topics = append(req.Topics, pt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("produce version %d", resp.Version)
	codes := map[[16]byte]int16{}
	names := map[string]int16{}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			codes[rt.TopicID] = p.ErrorCode
			names[rt.Topic] = p.ErrorCode
		}
	}
	if resp.Version >= 13 {
		if codes[meta["t1"]] != 29 || codes[meta["t2"]] != 0 || len(codes) != 2 {
			t.Fatalf("produce v%d codes by topic ID: %v (t1=%x t2=%x)", resp.Version, codes, meta["t1"], meta["t2"])
		}
	} else if names["t1"] != 29 || names["t2"] != 0 || len(names) != 2 {
		t.Fatalf("produce v%d codes: %v", resp.Version, names)
	}
	if got := e.partitionHW(t, "t2", 1); got != hw2+1 {
		t.Fatalf("t2/1 high watermark %d; want %d (the raw record)", got, hw2+1)
	}
	if got := e.partitionHW(t, "t1", 1); got != hw1 {
		t.Fatalf("t1/1 high watermark %d, was %d: the denied record was written", got, hw1)
	}
}

func (e *aclEnv) partitionHW(t *testing.T, topic string, p int32) int64 {
	t.Helper()
	pi := e.broker.cluster.PartitionInfo(topic, p)
	if pi == nil {
		t.Fatalf("no partition %s/%d", topic, p)
	}
	return pi.HighWatermark
}

func TestACLFetchWithoutRead(t *testing.T) {
	e := startACL(t)
	ctx := testCtx(t)
	// Put a record in t1 so an allowed fetch would have something.
	alice := e.client(t, &e.alice, nil)
	if err := alice.ProduceSync(ctx, &kgo.Record{Topic: "t1", Partition: 0, Value: []byte("secret")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	bob := e.client(t, &e.bob, nil,
		kgo.ConsumeTopics("t1"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	recs, errs := pollUntil(ctx, t, bob)
	if len(recs) != 0 {
		t.Fatalf("bob read %d records from t1", len(recs))
	}
	if len(errs) == 0 || !errors.Is(errs[0].Err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("bob fetch errors %v; want TOPIC_AUTHORIZATION_FAILED", errs)
	}
	if !e.hasDenial(principalB, "Fetch", Topic, "t1", Read) {
		t.Errorf("denial not recorded: %+v", e.broker.Denials())
	}

	// Raw fetch of t1 and t2 together: t1 is refused, t2 answered.
	ids := metadataFor(ctx, t, bob, "t1", "t2")
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 100, 1, 1<<20
	req.SessionEpoch = -1
	for _, topic := range []string{"t1", "t2"} {
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic, ft.TopicID = topic, ids[topic]
		for p := range int32(2) {
			fp := kmsg.NewFetchRequestTopicPartition()
			fp.Partition, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = p, 1<<20, -1
			ft.Partitions = append(ft.Partitions, fp)
		}
		req.Topics = append(req.Topics, ft)
	}
	resp, err := req.RequestWith(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fetch version %d", resp.Version)
	got := map[string][]int16{}
	for _, rt := range resp.Topics {
		name := rt.Topic
		for n, id := range ids {
			if resp.Version >= 13 && id == rt.TopicID {
				name = n
			}
		}
		for _, p := range rt.Partitions {
			got[name] = append(got[name], p.ErrorCode)
			if name == "t1" && len(p.RecordBatches) > 0 {
				t.Errorf("t1 data leaked to bob")
			}
		}
	}
	if !slices.Equal(got["t1"], []int16{29, 29}) || !slices.Equal(got["t2"], []int16{0, 0}) {
		t.Fatalf("fetch v%d error codes %v; want t1 [29 29], t2 [0 0]", resp.Version, got)
	}
}

func TestACLGroupDenied(t *testing.T) {
	e := startACL(t)
	ctx := testCtx(t)
	// bob may read t2 and groups "gb*", but not group "ga".
	bob := e.client(t, &e.bob, nil,
		kgo.ConsumeTopics("t2"),
		kgo.ConsumerGroup("ga"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err := bob.ProduceSync(ctx, &kgo.Record{Topic: "t2", Value: []byte("z")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	recs, errs := pollUntil(ctx, t, bob)
	if len(recs) != 0 || len(errs) == 0 || !errors.Is(errs[0].Err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("bob in group ga: recs=%d errs=%v; want GROUP_AUTHORIZATION_FAILED", len(recs), errs)
	}

	// Each group request is refused with 30 on the raw wire as well.
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorKey, fc.CoordinatorKeys = "ga", []string{"ga", "gb1"}
	fcr, err := fc.RequestWith(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if fcr.Version >= 4 {
		codes := map[string]int16{}
		for _, c := range fcr.Coordinators {
			codes[c.Key] = c.ErrorCode
		}
		if codes["ga"] != 30 || codes["gb1"] != 0 || len(codes) != 2 {
			t.Fatalf("FindCoordinator codes %v", codes)
		}
	} else if fcr.ErrorCode != 30 {
		t.Fatalf("FindCoordinator: %+v", fcr)
	}

	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Group, jg.ProtocolType, jg.SessionTimeoutMillis, jg.RebalanceTimeoutMillis = "ga", "consumer", 30000, 30000
	jp := kmsg.NewJoinGroupRequestProtocol()
	jp.Name = "range"
	jg.Protocols = append(jg.Protocols, jp)
	// Group requests go to the coordinator directly (kgo would first ask
	// FindCoordinator, which is already refused). The only node is 0.
	coord := bob.Broker(0)
	jgr, err := jg.RequestWith(ctx, coord)
	if err != nil || jgr.ErrorCode != 30 {
		t.Fatalf("JoinGroup: err=%v resp=%+v", err, jgr)
	}

	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "ga", "m", 1
	if hbr, err := hb.RequestWith(ctx, coord); err != nil || hbr.ErrorCode != 30 {
		t.Fatalf("Heartbeat: err=%v resp=%+v", err, hbr)
	}

	oc := kmsg.NewPtrOffsetCommitRequest()
	oc.Group, oc.Generation, oc.MemberID = "ga", -1, ""
	oct := kmsg.NewOffsetCommitRequestTopic()
	oct.Topic = "t2"
	ids := metadataFor(ctx, t, bob, "t2")
	oct.TopicID = ids["t2"]
	ocp := kmsg.NewOffsetCommitRequestTopicPartition()
	ocp.Partition, ocp.Offset = 0, 1
	oct.Partitions = append(oct.Partitions, ocp)
	oc.Topics = append(oc.Topics, oct)
	ocr, err := oc.RequestWith(ctx, coord)
	if err != nil || len(ocr.Topics) != 1 || ocr.Topics[0].Partitions[0].ErrorCode != 30 {
		t.Fatalf("OffsetCommit: err=%v resp=%+v", err, ocr)
	}

	of := kmsg.NewPtrOffsetFetchRequest()
	of.Group = "ga"
	ofg := kmsg.NewOffsetFetchRequestGroup()
	ofg.Group = "ga"
	of.Groups = append(of.Groups, ofg)
	ofr, err := of.RequestWith(ctx, coord)
	if err != nil {
		t.Fatal(err)
	}
	code := ofr.ErrorCode
	if ofr.Version >= 8 {
		code = ofr.Groups[0].ErrorCode
	}
	if code != 30 {
		t.Fatalf("OffsetFetch: %+v", ofr)
	}

	for _, api := range []string{"FindCoordinator", "JoinGroup", "Heartbeat", "OffsetCommit"} {
		if !e.hasDenial(principalB, api, Group, "ga", Read) && !e.hasDenial(principalB, api, Group, "ga", Describe) {
			t.Errorf("no %s denial recorded for group ga: %+v", api, e.broker.Denials())
		}
	}
}

func TestACLNoPermissions(t *testing.T) {
	e := startACL(t)
	ctx := testCtx(t)
	carol := e.client(t, &e.carol, nil)

	// Listing all topics shows carol nothing.
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, carol)
	if err != nil {
		t.Fatal(err)
	}
	if names := metaTopics(meta); len(names) != 0 {
		t.Fatalf("carol sees %v", names)
	}
	// Asking by name: TOPIC_AUTHORIZATION_FAILED, no partitions, no ID.
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("t1")
	req.Topics = append(req.Topics, rt)
	meta, err = req.RequestWith(ctx, carol)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].ErrorCode != 29 || len(meta.Topics[0].Partitions) != 0 ||
		meta.Topics[0].TopicID != ([16]byte{}) || *meta.Topics[0].Topic != "t1" {
		t.Fatalf("carol metadata t1: %+v", meta.Topics)
	}

	// An idempotent producer without Write anywhere fails InitProducerId
	// with CLUSTER_AUTHORIZATION_FAILED, as on Kafka.
	err = carol.ProduceSync(ctx, &kgo.Record{Topic: "t1", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.ClusterAuthorizationFailed) && !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("carol produce: %v", err)
	}
	ip, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, carol)
	if err != nil || ip.ErrorCode != 31 {
		t.Fatalf("InitProducerId: err=%v resp=%+v", err, ip)
	}

	// CreateTopics without Create: 29 per topic.
	ct := kmsg.NewPtrCreateTopicsRequest()
	ctt := kmsg.NewCreateTopicsRequestTopic()
	ctt.Topic, ctt.NumPartitions, ctt.ReplicationFactor = "t3", 1, 1
	ct.Topics = append(ct.Topics, ctt)
	ct.TimeoutMillis = 5000
	ctr, err := ct.RequestWith(ctx, carol)
	if err != nil || len(ctr.Topics) != 1 || ctr.Topics[0].ErrorCode != 29 {
		t.Fatalf("CreateTopics: err=%v resp=%+v", err, ctr)
	}
	if e.broker.cluster.TopicInfo("t3") != nil {
		t.Fatal("t3 was created")
	}

	// ListOffsets without Describe: 29.
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.ReplicaID = -1
	lot := kmsg.NewListOffsetsRequestTopic()
	lot.Topic = "t1"
	lop := kmsg.NewListOffsetsRequestTopicPartition()
	lop.Partition, lop.Timestamp, lop.CurrentLeaderEpoch = 0, -1, -1
	lot.Partitions = append(lot.Partitions, lop)
	lo.Topics = append(lo.Topics, lot)
	// Sent to the broker directly: kgo would otherwise look up t1's
	// leader first and fail on the (denied) metadata.
	lor, err := lo.RequestWith(ctx, carol.Broker(0))
	if err != nil || len(lor.Topics) != 1 || lor.Topics[0].Partitions[0].ErrorCode != 29 || lor.Topics[0].Partitions[0].Offset != -1 {
		t.Fatalf("ListOffsets: err=%v resp=%+v", err, lor)
	}
}

func TestACLCreateTopicAllowed(t *testing.T) {
	e := start(t, func(c *Config) {
		c.ACLs = NewACLs(ACL{Principal: "User:CN=admin", Resource: Topic, Name: "new-", Prefixed: true, Operation: Create})
	})
	admin := e.ca.issue(t, leafOpts{cn: "admin"})
	cl := e.client(t, &admin, nil)
	ct := kmsg.NewPtrCreateTopicsRequest()
	for _, name := range []string{"new-a", "other"} {
		ctt := kmsg.NewCreateTopicsRequestTopic()
		ctt.Topic, ctt.NumPartitions, ctt.ReplicationFactor = name, 1, 1
		ct.Topics = append(ct.Topics, ctt)
	}
	ct.TimeoutMillis = 5000
	ctr, err := ct.RequestWith(testCtx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int16{}
	for _, rt := range ctr.Topics {
		codes[rt.Topic] = rt.ErrorCode
	}
	if codes["new-a"] != 0 || codes["other"] != 29 || len(codes) != 2 {
		t.Fatalf("CreateTopics codes %v", codes)
	}
	if e.broker.cluster.TopicInfo("new-a") == nil || e.broker.cluster.TopicInfo("other") != nil {
		t.Fatal("wrong topics created")
	}
}

func TestACLUnsupportedRequests(t *testing.T) {
	e := startACL(t)
	ctx := testCtx(t)
	cl := e.client(t, &e.alice, nil)

	// Under ACLs, ApiVersions advertises only the enforced request types.
	avr := kmsg.NewPtrApiVersionsRequest()
	avr.ClientSoftwareName, avr.ClientSoftwareVersion = "kafkatls-test", "1"
	av, err := avr.RequestWith(ctx, cl.Broker(0))
	if err != nil || av.ErrorCode != 0 {
		t.Fatalf("ApiVersions: %v %+v", err, av)
	}
	keys := map[int16]bool{}
	for _, k := range av.ApiKeys {
		keys[k.ApiKey] = true
	}
	for _, k := range []kmsg.Key{kmsg.Produce, kmsg.Fetch, kmsg.Metadata, kmsg.JoinGroup, kmsg.ApiVersions} {
		if !keys[int16(k)] {
			t.Errorf("ApiVersions lacks %v", k)
		}
	}
	if keys[int16(kmsg.DescribeConfigs)] || keys[int16(kmsg.EndTxn)] {
		t.Errorf("ApiVersions advertises unenforced keys: %v", keys)
	}
	// So kgo refuses DescribeConfigs itself, without a round trip.
	dc := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, "t1"
	dc.Resources = append(dc.Resources, rr)
	if _, err := dc.RequestWith(ctx, cl.Broker(0)); err == nil {
		t.Fatal("DescribeConfigs succeeded under ACLs")
	}

	// A client that sends it anyway is disconnected, and the refusal is
	// recorded.
	conf := &tls.Config{RootCAs: e.ca.pool, Certificates: []tls.Certificate{e.alice}, ServerName: "127.0.0.1"}
	conn, err := tls.Dial("tcp", e.broker.Addr(), conf)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	dc.SetVersion(4)
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw")).AppendRequest(nil, dc, 7)
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	if n, err := conn.Read(make([]byte, 64)); !errors.Is(err, io.EOF) {
		t.Fatalf("read after DescribeConfigs: n=%d err=%v; want EOF", n, err)
	}
	if !slices.ContainsFunc(e.broker.Denials(), func(d Denial) bool {
		return d.Principal == principalA && d.API == "DescribeConfigs"
	}) {
		t.Fatalf("no denial recorded: %+v", e.broker.Denials())
	}

	// Enforced requests still work, on the same client.
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl); err != nil {
		t.Fatalf("metadata: %v", err)
	}
}

func TestHandledKeysAreAuthorized(t *testing.T) {
	e := startACL(t)
	c := newAuthzConn(fakeConn{}, e.broker, principalC)
	for key := range handledKeys {
		req := kmsg.RequestForKey(int16(key))
		if o := c.authorize(req); o.closeErr != nil {
			t.Errorf("%v is advertised but refused: %v", key, o.closeErr)
		}
	}
	if o := c.authorize(kmsg.NewPtrDescribeConfigsRequest()); o.closeErr == nil {
		t.Error("DescribeConfigs not refused")
	}
}

type fakeConn struct{ net.Conn }

func (fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// metadataFor returns the topic IDs of topics (asserting they are visible).
func metadataFor(ctx context.Context, t *testing.T, cl *kgo.Client, topics ...string) map[string][16]byte {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	for _, topic := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string][16]byte{}
	for _, rt := range resp.Topics {
		if rt.ErrorCode != 0 || rt.Topic == nil {
			t.Fatalf("metadata %v: %+v", topics, rt)
		}
		ids[*rt.Topic] = rt.TopicID
	}
	return ids
}

func metaTopics(m *kmsg.MetadataResponse) []string {
	var names []string
	for _, t := range m.Topics {
		if t.Topic != nil && t.ErrorCode == 0 {
			names = append(names, *t.Topic)
		}
	}
	slices.Sort(names)
	return names
}

// offsetFetchPartitions returns the partitions of a one-group response
// (kgo fills both the old and the batched fields; use the version's).
func offsetFetchPartitions(r *kmsg.OffsetFetchResponse) []kmsg.OffsetFetchResponseGroupTopicPartition {
	var out []kmsg.OffsetFetchResponseGroupTopicPartition
	if r.Version >= 8 {
		for _, g := range r.Groups {
			for _, t := range g.Topics {
				out = append(out, t.Partitions...)
			}
		}
		return out
	}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			out = append(out, kmsg.OffsetFetchResponseGroupTopicPartition{Partition: p.Partition, Offset: p.Offset, ErrorCode: p.ErrorCode})
		}
	}
	return out
}

// recordBatch encodes a one-record, uncompressed v2 record batch.
func recordBatch(value []byte) []byte {
	rec := kmsg.Record{Value: value}
	rec.Length = int32(len(rec.AppendTo(nil)) - 1) // minus the 1-byte varint of 0
	recBytes := rec.AppendTo(nil)
	b := kmsg.RecordBatch{
		FirstOffset:          0,
		PartitionLeaderEpoch: -1,
		Magic:                2,
		LastOffsetDelta:      0,
		FirstTimestamp:       time.Now().UnixMilli(),
		MaxTimestamp:         time.Now().UnixMilli(),
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           1,
		Records:              recBytes,
	}
	raw := b.AppendTo(nil)
	b.Length = int32(len(raw) - 12)
	raw = b.AppendTo(nil)
	b.CRC = int32(crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b.AppendTo(nil)
}
