// Package testbroker runs an in-process, single-node Kafka broker
// (github.com/twmb/franz-go/pkg/kfake) behind a mutual-TLS listener, logs
// every connection attempt, and enforces ACLs by certificate principal.
//
// # Authentication
//
// Every TCP connection is TLS-handshaken eagerly (bounded by
// Config.HandshakeTimeout) before kfake sees it. TLS 1.2 is the minimum. A
// client certificate is required and verified exactly as
// tls.RequireAndVerifyClientCert would verify it: it must chain to
// Config.ClientCAs, be inside its validity period and allow clientAuth.
// Unlike a Java broker, the listener does not send the list of acceptable
// CAs in its CertificateRequest, so clients always present their
// certificate and a foreign-CA or expired certificate is reported as such
// rather than as "no certificate". The verified leaf is passed to
// Config.Principal; an error there is an authentication failure and the
// connection is closed. Each attempt, good or bad (except one cut short by
// Broker.Close), produces one Event with
// the TLS version, cipher, client subject, principal, or error and a
// Diagnosis (no client certificate, unknown CA, expired / not yet valid,
// wrong EKU, plaintext Kafka or HTTP client on the TLS port, client
// rejected the broker certificate (with its alert), version or cipher
// mismatch, timeout, principal mapping failure).
//
// # SASL_SSL
//
// With Config.SASL the same kfake cluster also serves a SASL_SSL listener
// on its own port: TLS without a client certificate (KIP-684), then
// SaslHandshake v1 and SaslAuthenticate, which this package answers itself
// (kfake's SASL is cluster-wide: enabling it would force SASL onto the
// mTLS listener too). PLAIN, SCRAM-SHA-256/512 (github.com/xdg-go/scram
// over credentials computed at start) and OAUTHBEARER (RFC 7628; the JWT
// is checked as Kafka's OAuthBearerValidatorCallbackHandler does: kid in
// the JWKS, signature, exp/iat present, exp/nbf/iat within the clock skew,
// expected iss and aud, a sub) are supported. Any other request before
// authentication closes the connection. The principal is User:NAME (PLAIN,
// SCRAM) or User:<sub> (OAUTHBEARER); ACLs apply to it as to a certificate
// principal. Each SASL_SSL connection produces one Event when its
// authentication ends: Listener, Mechanism, and the principal or a
// *SASLError naming the reason (unknown user, wrong password, expired
// token, key not in the JWKS, wrong audience ...). As Kafka does, a SCRAM
// or PLAIN client is told only "invalid credentials"; the Event says which.
// Responses that carry the broker's address (Metadata, FindCoordinator,
// DescribeCluster, Produce/Fetch leader endpoints) name the SASL_SSL
// listener on that listener, as a Kafka broker answers with the endpoints
// of the listener a request came in on.
//
// # Topics
//
// Config.Topics are created at start. As on a default Kafka broker
// (auto.create.topics.enable=true, num.partitions=1), a Metadata request
// (v4+) that names a missing topic and allows auto-creation creates it
// with Config.Partitions partitions; producers send one before their first
// write to a topic, so producing to a new topic just works. A Produce
// request for a missing topic does not create it (UNKNOWN_TOPIC_OR_PARTITION,
// as on Kafka), and neither does a Metadata v0-v3 request (Kafka would;
// kfake does not). Config.NoAutoCreateTopics turns auto-creation off.
//
// # Attribution
//
// kfake authorizes only SASL users: its control functions receive the bare
// request, with no connection, client address or principal, and an
// mTLS client is User:ANONYMOUS to it. So the authorization layer lives in
// the connection kfake reads from: each accepted connection is wrapped in a
// net.Conn that knows its principal, decodes every request frame kfake is
// about to read (kmsg), and then forwards it unchanged, forwards a copy
// with the denied topics/groups removed and merges their errors into
// kfake's response, or answers it itself. Responses are released in
// request order, as the protocol requires. Topic IDs (Produce v13, Fetch
// v13+, OffsetCommit/OffsetFetch v10, DeleteTopics v6, Metadata v10+) are
// resolved to names through kfake; an unknown ID is left to kfake, which
// answers UNKNOWN_TOPIC_ID as Kafka does regardless of ACLs.
//
// # What is enforced (only when Config.ACLs is non-nil)
//
// The rules follow Kafka's KafkaApis; "cluster" is the resource
// ClusterName. Denied parts get the error code a real broker returns, and
// each denial is recorded (Broker.Denials).
//
//   - Produce: Write on each topic, else TOPIC_AUTHORIZATION_FAILED (29) for
//     its partitions, the other topics are still written; a transactional
//     produce needs Write on the TransactionalId, else
//     TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53) for all partitions. A denied
//     acks=0 produce closes the connection (there is no response to carry
//     the error; Kafka does the same).
//   - Fetch (consumer fetches): Read on each topic, else 29 for its
//     partitions.
//   - ListOffsets, OffsetForLeaderEpoch: Describe on each topic, else 29.
//   - Metadata: Describe on each topic. Listing all topics silently omits
//     undescribable ones; a topic asked for by name gets 29 (by ID: 29 with
//     the name withheld). Authorized-operation bitfields, when requested,
//     are computed from the ACLs. When the request allows auto-creation
//     (and Config.NoAutoCreateTopics is false), a missing topic is created
//     only with Create on the cluster or on the topic, else it gets 29 and
//     is not created; a topic without Describe is never created.
//   - CreateTopics: Create on the cluster, or Create on each topic, else 29.
//     DeleteTopics: Delete on each topic, else 29.
//   - InitProducerId: with a transactional ID, Write on it, else 53; an
//     idempotent producer needs IdempotentWrite on the cluster or Write on
//     any topic (KIP-679), else CLUSTER_AUTHORIZATION_FAILED (31).
//   - FindCoordinator: Describe on the group (or transactional ID), else
//     GROUP_AUTHORIZATION_FAILED (30) (or 53). Read implies Describe.
//   - JoinGroup, SyncGroup, Heartbeat, LeaveGroup, ConsumerGroupHeartbeat:
//     Read on the group, else 30; ConsumerGroupHeartbeat also needs Describe
//     on every subscribed topic name, else 29.
//   - OffsetCommit: Read on the group, else 30 for every partition; then Read
//     on each topic, else 29.
//   - OffsetFetch: Describe on the group, else 30; then Describe on each
//     topic: 29 for named topics, undescribable ones omitted when all
//     topics are asked for.
//   - DescribeGroups, ConsumerGroupDescribe: Describe on each group, else
//     30. ListGroups: all groups with Describe on the cluster, otherwise only
//     groups the principal may Describe. DeleteGroups: Delete on each group,
//     else 30.
//   - ApiVersions, SaslHandshake, SaslAuthenticate, GetTelemetrySubscriptions
//     and PushTelemetry are not authorized (as in Kafka); the ApiVersions
//     answer lists only the request types above.
//
// # What is not enforced
//
//   - Every other request type (transactions: AddPartitionsToTxn,
//     AddOffsetsToTxn, EndTxn, TxnOffsetCommit; configs; ACL admin;
//     partitions; records deletion; share groups; DescribeCluster ...) is
//     refused when ACLs are set: ApiVersions does not advertise it (so
//     clients fail fast with "not supported"), and a client that sends one
//     anyway, or sends a request that cannot be decoded, is disconnected
//     and a Denial is recorded. Without ACLs everything kfake implements
//     is allowed and requests are not inspected at all.
//   - No DENY ACLs, no host restrictions, no super users, no
//     allow.everyone.if.no.acl.found: a request is allowed only if an ACL
//     allows it (see ACLs).
//   - Fetch from a follower (replica ID >= 0) and OffsetForLeaderEpoch from
//     a replica are treated like consumer requests (no ClusterAction check).
//   - CreateTopics does not hide configs from principals lacking
//     DescribeConfigs.
//   - kfake's own ACL engine is not used (kfake's CreateAcls/DescribeAcls
//     are among the refused requests), and ACLs cannot change after Start.
package testbroker
