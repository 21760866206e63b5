package testbroker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	codeTopic   = kerr.TopicAuthorizationFailed.Code
	codeGroup   = kerr.GroupAuthorizationFailed.Code
	codeCluster = kerr.ClusterAuthorizationFailed.Code
	codeTxnID   = kerr.TransactionalIDAuthorizationFailed.Code
)

func errName(code int16) string {
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
		return e.Message
	}
	return fmt.Sprintf("error code %d", code)
}

// topic resolves a request's topic reference (a name, or a topic ID in
// newer versions). ok is false for an unknown ID: such a reference is left
// for kfake, which answers UNKNOWN_TOPIC_ID as Kafka does whatever the ACLs.
func (c *authzConn) topic(name string, id [16]byte) (string, bool) {
	if name != "" {
		return name, true
	}
	if id == ([16]byte{}) {
		return "", false
	}
	return c.b.topicName(id)
}

// split partitions items into those kept and those denied.
func split[T any](items []T, denied func(T) bool) (keep, deny []T) {
	for _, it := range items {
		if denied(it) {
			deny = append(deny, it)
		} else {
			keep = append(keep, it)
		}
	}
	return keep, deny
}

// partial answers a request some of whose entries were denied: if none
// remain (allDenied) the request is answered locally with only the denied
// entries' errors (added by add); otherwise apply removes the denied
// entries from the request and add merges their errors into kfake's
// response.
func partial[R kmsg.Response](req kmsg.Request, allDenied bool, apply func(), add func(R)) outcome {
	if allDenied {
		r := req.ResponseKind().(R)
		add(r)
		return outcome{local: r}
	}
	apply()
	return outcome{modified: true, fix: func(r kmsg.Response) { add(r.(R)) }}
}

// handledKeys are the request types authorize knows; all others are refused
// under ACLs and not advertised in ApiVersions.
var handledKeys = map[kmsg.Key]bool{
	kmsg.ApiVersions: true, kmsg.SASLHandshake: true, kmsg.SASLAuthenticate: true,
	kmsg.GetTelemetrySubscriptions: true, kmsg.PushTelemetry: true,
	kmsg.Produce: true, kmsg.Fetch: true, kmsg.ListOffsets: true, kmsg.Metadata: true,
	kmsg.OffsetForLeaderEpoch: true, kmsg.CreateTopics: true, kmsg.DeleteTopics: true,
	kmsg.InitProducerID: true, kmsg.FindCoordinator: true, kmsg.JoinGroup: true,
	kmsg.SyncGroup: true, kmsg.Heartbeat: true, kmsg.LeaveGroup: true,
	kmsg.OffsetCommit: true, kmsg.OffsetFetch: true, kmsg.DescribeGroups: true,
	kmsg.ListGroups: true, kmsg.DeleteGroups: true, kmsg.ConsumerGroupHeartbeat: true,
	kmsg.ConsumerGroupDescribe: true,
}

// authorize decides one request. See the package documentation for the
// rules; they follow Kafka's KafkaApis.
func (c *authzConn) authorize(kreq kmsg.Request) outcome {
	api := apiName(kreq.Key())
	switch req := kreq.(type) {
	case *kmsg.ApiVersionsRequest:
		// Not authorized (as in Kafka), but only the request types this
		// layer handles are advertised, so that clients fail fast with
		// "not supported" instead of being disconnected.
		return outcome{fix: func(resp kmsg.Response) {
			r := resp.(*kmsg.ApiVersionsResponse)
			kept := r.ApiKeys[:0]
			for _, k := range r.ApiKeys {
				if handledKeys[kmsg.Key(k.ApiKey)] {
					kept = append(kept, k)
				}
			}
			r.ApiKeys = kept
		}}
	case *kmsg.SASLHandshakeRequest, *kmsg.SASLAuthenticateRequest,
		*kmsg.GetTelemetrySubscriptionsRequest, *kmsg.PushTelemetryRequest:
		return outcome{} // Kafka authorizes none of these

	case *kmsg.ProduceRequest:
		return c.produce(api, req)
	case *kmsg.FetchRequest:
		return c.fetch(api, req)
	case *kmsg.ListOffsetsRequest:
		return c.listOffsets(api, req)
	case *kmsg.MetadataRequest:
		return c.metadata(req)
	case *kmsg.OffsetForLeaderEpochRequest:
		return c.offsetForLeaderEpoch(api, req)
	case *kmsg.CreateTopicsRequest:
		return c.createTopics(api, req)
	case *kmsg.DeleteTopicsRequest:
		return c.deleteTopics(api, req)
	case *kmsg.InitProducerIDRequest:
		return c.initProducerID(api, req)

	case *kmsg.FindCoordinatorRequest:
		return c.findCoordinator(api, req)
	case *kmsg.JoinGroupRequest:
		if !c.check(api, Group, req.Group, Read, codeGroup) {
			r := req.ResponseKind().(*kmsg.JoinGroupResponse)
			r.ErrorCode, r.Generation, r.MemberID = codeGroup, -1, req.MemberID
			return outcome{local: r}
		}
	case *kmsg.SyncGroupRequest:
		if !c.check(api, Group, req.Group, Read, codeGroup) {
			r := req.ResponseKind().(*kmsg.SyncGroupResponse)
			r.ErrorCode = codeGroup
			return outcome{local: r}
		}
	case *kmsg.HeartbeatRequest:
		if !c.check(api, Group, req.Group, Read, codeGroup) {
			r := req.ResponseKind().(*kmsg.HeartbeatResponse)
			r.ErrorCode = codeGroup
			return outcome{local: r}
		}
	case *kmsg.LeaveGroupRequest:
		if !c.check(api, Group, req.Group, Read, codeGroup) {
			r := req.ResponseKind().(*kmsg.LeaveGroupResponse)
			r.ErrorCode = codeGroup
			return outcome{local: r}
		}
	case *kmsg.OffsetCommitRequest:
		return c.offsetCommit(api, req)
	case *kmsg.OffsetFetchRequest:
		return c.offsetFetch(api, req)
	case *kmsg.DescribeGroupsRequest:
		return c.describeGroups(api, req)
	case *kmsg.ListGroupsRequest:
		return c.listGroups()
	case *kmsg.DeleteGroupsRequest:
		return c.deleteGroups(api, req)
	case *kmsg.ConsumerGroupHeartbeatRequest:
		return c.consumerGroupHeartbeat(api, req)
	case *kmsg.ConsumerGroupDescribeRequest:
		return c.consumerGroupDescribe(api, req)

	default:
		c.deny(api, "", "", "", "connection closed: testbroker does not authorize "+api+" requests, so it refuses them when ACLs are set")
		return outcome{closeErr: fmt.Errorf("testbroker: %s is not supported with ACLs; closing the connection", api)}
	}
	return outcome{}
}

func (c *authzConn) produce(api string, req *kmsg.ProduceRequest) outcome {
	code := codeTopic
	var deniedAll bool
	if req.TransactionID != nil && !c.check(api, TransactionalID, *req.TransactionID, Write, codeTxnID) {
		code, deniedAll = codeTxnID, true
	}
	keep, deny := split(req.Topics, func(t kmsg.ProduceRequestTopic) bool {
		if deniedAll {
			return true
		}
		name, ok := c.topic(t.Topic, t.TopicID)
		return ok && !c.check(api, Topic, name, Write, codeTopic)
	})
	if len(deny) == 0 {
		return outcome{}
	}
	if req.Acks == 0 {
		// There is no response to carry the error: Kafka closes the
		// connection instead.
		return outcome{closeErr: fmt.Errorf("testbroker: acks=0 produce denied (%s)", errName(code))}
	}
	return partial(req, len(keep) == 0, func() { req.Topics = keep }, func(r *kmsg.ProduceResponse) {
		for _, t := range deny {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, code
				rp.BaseOffset, rp.LogAppendTime, rp.LogStartOffset = -1, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			r.Topics = append(r.Topics, rt)
		}
	})
}

func (c *authzConn) fetch(api string, req *kmsg.FetchRequest) outcome {
	keep, deny := split(req.Topics, func(t kmsg.FetchRequestTopic) bool {
		name, ok := c.topic(t.Topic, t.TopicID)
		return ok && !c.check(api, Topic, name, Read, codeTopic)
	})
	if len(deny) == 0 {
		return outcome{}
	}
	add := func(r *kmsg.FetchResponse) {
		for _, t := range deny {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, codeTopic
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset, rp.PreferredReadReplica = -1, -1, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			r.Topics = append(r.Topics, rt)
		}
	}
	// With nothing left, answer at once, as Kafka does, unless this is an
	// incremental fetch of an existing session: kfake must see it to keep
	// the session epoch in step (it then long-polls the session's
	// partitions, as Kafka would).
	incremental := req.Version >= 7 && req.SessionID != 0 && req.SessionEpoch > 0
	return partial(req, len(keep) == 0 && !incremental, func() { req.Topics = keep }, add)
}

func (c *authzConn) listOffsets(api string, req *kmsg.ListOffsetsRequest) outcome {
	denied := map[string]bool{}
	for _, t := range req.Topics {
		if !c.check(api, Topic, t.Topic, Describe, codeTopic) {
			denied[t.Topic] = true
		}
	}
	if len(denied) == 0 {
		return outcome{}
	}
	// ListOffsets has no side effects: let kfake answer, then replace the
	// denied topics' partitions.
	return outcome{fix: func(resp kmsg.Response) {
		r := resp.(*kmsg.ListOffsetsResponse)
		for i := range r.Topics {
			if !denied[r.Topics[i].Topic] {
				continue
			}
			for j := range r.Topics[i].Partitions {
				p := &r.Topics[i].Partitions[j]
				np := kmsg.NewListOffsetsResponseTopicPartition()
				np.Partition, np.ErrorCode = p.Partition, codeTopic
				np.Timestamp, np.Offset, np.LeaderEpoch = -1, -1, -1
				*p = np
			}
		}
	}}
}

func (c *authzConn) offsetForLeaderEpoch(api string, req *kmsg.OffsetForLeaderEpochRequest) outcome {
	denied := map[string]bool{}
	for _, t := range req.Topics {
		if !c.check(api, Topic, t.Topic, Describe, codeTopic) {
			denied[t.Topic] = true
		}
	}
	if len(denied) == 0 {
		return outcome{}
	}
	return outcome{fix: func(resp kmsg.Response) {
		r := resp.(*kmsg.OffsetForLeaderEpochResponse)
		for i := range r.Topics {
			if !denied[r.Topics[i].Topic] {
				continue
			}
			for j := range r.Topics[i].Partitions {
				p := &r.Topics[i].Partitions[j]
				p.ErrorCode, p.LeaderEpoch, p.EndOffset = codeTopic, -1, -1
			}
		}
	}}
}

// Authorized-operation bits (bit n = kmsg.ACLOperation n), as Kafka
// computes them for Metadata and DescribeGroups.
var (
	topicOps   = []Operation{Read, Write, Create, Delete, Alter, Describe, DescribeConfigs, AlterConfigs}
	clusterOps = []Operation{Create, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite}
	groupOps   = []Operation{Read, Delete, Describe}
	opBit      = map[Operation]kmsg.ACLOperation{
		Read: kmsg.ACLOperationRead, Write: kmsg.ACLOperationWrite, Create: kmsg.ACLOperationCreate,
		Delete: kmsg.ACLOperationDelete, Alter: kmsg.ACLOperationAlter, Describe: kmsg.ACLOperationDescribe,
		ClusterAction: kmsg.ACLOperationClusterAction, DescribeConfigs: kmsg.ACLOperationDescribeConfigs,
		AlterConfigs: kmsg.ACLOperationAlterConfigs, IdempotentWrite: kmsg.ACLOperationIdempotentWrite,
	}
)

func (c *authzConn) authorizedOps(rt ResourceType, name string, ops []Operation) int32 {
	var bits int32
	for _, op := range ops {
		if c.can(rt, name, op) {
			bits |= 1 << int32(opBit[op])
		}
	}
	return bits
}

func (c *authzConn) metadata(req *kmsg.MetadataRequest) outcome {
	allTopics := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	byID := map[[16]byte]bool{}
	for _, t := range req.Topics {
		if t.Topic == nil {
			byID[t.TopicID] = true
		}
	}
	// With auto-creation, kfake creates every missing topic the request
	// names, so the topics that must not be created are taken out of the
	// request before kfake sees it and answered here, as Kafka's
	// handleTopicMetadataRequest does: a topic the principal may not
	// Describe gets TOPIC_AUTHORIZATION_FAILED, and so does a missing
	// one it may not Create (on the cluster or the topic).
	var refused []kmsg.MetadataResponseTopic
	modified := false
	if req.AllowAutoTopicCreation && !c.b.cfg.NoAutoCreateTopics && !allTopics {
		clusterCreate := c.can(Cluster, ClusterName, Create)
		keep := make([]kmsg.MetadataRequestTopic, 0, len(req.Topics))
		seen := map[string]bool{}
		for _, t := range req.Topics {
			if t.Topic == nil || t.TopicID != ([16]byte{}) {
				keep = append(keep, t) // by ID: the topic exists or kfake says it does not
				continue
			}
			name := *t.Topic
			if seen[name] {
				continue // answered once, as Kafka does
			}
			seen[name] = true
			deny := !c.check("Metadata", Topic, name, Describe, codeTopic)
			if !deny && !clusterCreate && !c.can(Topic, name, Create) {
				exists, ok := c.b.topicExists(name)
				deny = ok && !exists && !c.check("Metadata", Topic, name, Create, codeTopic)
			}
			if !deny {
				keep = append(keep, t)
				continue
			}
			nt := kmsg.NewMetadataResponseTopic()
			nt.Topic, nt.ErrorCode = t.Topic, codeTopic
			refused = append(refused, nt)
		}
		if len(refused) > 0 {
			// Never nil: a null topic list would ask for all topics.
			req.Topics, modified = keep, true
		}
	}
	return outcome{modified: modified, fix: func(resp kmsg.Response) {
		r := resp.(*kmsg.MetadataResponse)
		if req.IncludeClusterAuthorizedOperations && req.Version >= 8 && req.Version <= 10 {
			r.AuthorizedOperations = c.authorizedOps(Cluster, ClusterName, clusterOps)
		}
		kept := r.Topics[:0]
		for _, t := range r.Topics {
			if t.Topic == nil { // an unknown topic ID: no name to authorize
				kept = append(kept, t)
				continue
			}
			name := *t.Topic
			if allTopics {
				// Listing: unauthorized topics are silently left out.
				if !c.can(Topic, name, Describe) {
					continue
				}
			} else if !c.check("Metadata", Topic, name, Describe, codeTopic) {
				nt := kmsg.NewMetadataResponseTopic()
				nt.ErrorCode = codeTopic
				if byID[t.TopicID] {
					nt.TopicID = t.TopicID // topic IDs are not secret; the name is
				} else {
					nt.Topic = t.Topic
				}
				kept = append(kept, nt)
				continue
			}
			if req.IncludeTopicAuthorizedOperations {
				t.AuthorizedOperations = c.authorizedOps(Topic, name, topicOps)
			}
			kept = append(kept, t)
		}
		r.Topics = append(kept, refused...)
	}}
}

func (c *authzConn) createTopics(api string, req *kmsg.CreateTopicsRequest) outcome {
	if c.can(Cluster, ClusterName, Create) {
		return outcome{}
	}
	keep, deny := split(req.Topics, func(t kmsg.CreateTopicsRequestTopic) bool {
		return !c.check(api, Topic, t.Topic, Create, codeTopic)
	})
	if len(deny) == 0 {
		return outcome{}
	}
	return partial(req, len(keep) == 0, func() { req.Topics = keep }, func(r *kmsg.CreateTopicsResponse) {
		for _, t := range deny {
			rt := kmsg.NewCreateTopicsResponseTopic()
			rt.Topic, rt.ErrorCode = t.Topic, codeTopic
			rt.NumPartitions, rt.ReplicationFactor = -1, -1
			r.Topics = append(r.Topics, rt)
		}
	})
}

func (c *authzConn) deleteTopics(api string, req *kmsg.DeleteTopicsRequest) outcome {
	if req.Version < 6 {
		keep, deny := split(req.TopicNames, func(t string) bool {
			return !c.check(api, Topic, t, Delete, codeTopic)
		})
		if len(deny) == 0 {
			return outcome{}
		}
		return partial(req, len(keep) == 0, func() { req.TopicNames = keep }, func(r *kmsg.DeleteTopicsResponse) {
			for _, t := range deny {
				rt := kmsg.NewDeleteTopicsResponseTopic()
				rt.Topic, rt.ErrorCode = kmsg.StringPtr(t), codeTopic
				r.Topics = append(r.Topics, rt)
			}
		})
	}
	keep, deny := split(req.Topics, func(t kmsg.DeleteTopicsRequestTopic) bool {
		var n string
		if t.Topic != nil {
			n = *t.Topic
		}
		name, ok := c.topic(n, t.TopicID)
		return ok && !c.check(api, Topic, name, Delete, codeTopic)
	})
	if len(deny) == 0 {
		return outcome{}
	}
	return partial(req, len(keep) == 0, func() { req.Topics = keep }, func(r *kmsg.DeleteTopicsResponse) {
		for _, t := range deny {
			rt := kmsg.NewDeleteTopicsResponseTopic()
			rt.Topic, rt.TopicID, rt.ErrorCode = t.Topic, t.TopicID, codeTopic
			r.Topics = append(r.Topics, rt)
		}
	})
}

func (c *authzConn) initProducerID(api string, req *kmsg.InitProducerIDRequest) outcome {
	code := int16(0)
	if req.TransactionalID != nil {
		if !c.check(api, TransactionalID, *req.TransactionalID, Write, codeTxnID) {
			code = codeTxnID
		}
	} else if !c.can(Cluster, ClusterName, IdempotentWrite) && !c.b.cfg.ACLs.anyAllowed(c.principal, Topic, Write) {
		// Idempotent producer: IdempotentWrite on the cluster, or (Kafka
		// 2.8+, KIP-679) Write on any topic.
		c.deny(api, Cluster, ClusterName, IdempotentWrite, errName(codeCluster))
		code = codeCluster
	}
	if code == 0 {
		return outcome{}
	}
	r := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	r.ErrorCode, r.ProducerID, r.ProducerEpoch = code, -1, -1
	return outcome{local: r}
}

// coordinatorCheck authorizes a FindCoordinator key: Describe on the group
// (key type 0 consumer group, 2 share group) or transactional ID (1).
func (c *authzConn) coordinatorCheck(api string, keyType int8, key string) int16 {
	switch keyType {
	case 1:
		if !c.check(api, TransactionalID, key, Describe, codeTxnID) {
			return codeTxnID
		}
	default:
		if !c.check(api, Group, key, Describe, codeGroup) {
			return codeGroup
		}
	}
	return 0
}

func (c *authzConn) findCoordinator(api string, req *kmsg.FindCoordinatorRequest) outcome {
	if req.Version < 4 {
		code := c.coordinatorCheck(api, req.CoordinatorType, req.CoordinatorKey)
		if code == 0 {
			return outcome{}
		}
		r := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
		r.ErrorCode, r.NodeID, r.Host, r.Port = code, -1, "", -1
		return outcome{local: r}
	}
	codes := map[string]int16{}
	keep, deny := split(req.CoordinatorKeys, func(k string) bool {
		codes[k] = c.coordinatorCheck(api, req.CoordinatorType, k)
		return codes[k] != 0
	})
	if len(deny) == 0 {
		return outcome{}
	}
	return partial(req, len(keep) == 0, func() { req.CoordinatorKeys = keep }, func(r *kmsg.FindCoordinatorResponse) {
		for _, k := range deny {
			rc := kmsg.NewFindCoordinatorResponseCoordinator()
			rc.Key, rc.NodeID, rc.Host, rc.Port, rc.ErrorCode = k, -1, "", -1, codes[k]
			r.Coordinators = append(r.Coordinators, rc)
		}
	})
}

func (c *authzConn) offsetCommit(api string, req *kmsg.OffsetCommitRequest) outcome {
	if !c.check(api, Group, req.Group, Read, codeGroup) {
		r := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, t := range req.Topics {
			r.Topics = append(r.Topics, offsetCommitErrors(t, codeGroup))
		}
		return outcome{local: r}
	}
	keep, deny := split(req.Topics, func(t kmsg.OffsetCommitRequestTopic) bool {
		name, ok := c.topic(t.Topic, t.TopicID)
		return ok && !c.check(api, Topic, name, Read, codeTopic)
	})
	if len(deny) == 0 {
		return outcome{}
	}
	return partial(req, len(keep) == 0, func() { req.Topics = keep }, func(r *kmsg.OffsetCommitResponse) {
		for _, t := range deny {
			r.Topics = append(r.Topics, offsetCommitErrors(t, codeTopic))
		}
	})
}

func offsetCommitErrors(t kmsg.OffsetCommitRequestTopic, code int16) kmsg.OffsetCommitResponseTopic {
	rt := kmsg.NewOffsetCommitResponseTopic()
	rt.Topic, rt.TopicID = t.Topic, t.TopicID
	for _, p := range t.Partitions {
		rp := kmsg.NewOffsetCommitResponseTopicPartition()
		rp.Partition, rp.ErrorCode = p.Partition, code
		rt.Partitions = append(rt.Partitions, rp)
	}
	return rt
}

// offsetFetch: Describe on the group (Kafka's rule; Read implies it), then
// Describe on each topic. Fetching offsets has no side effects, so kfake
// answers and the denied parts of its response are replaced: named denied
// topics get TOPIC_AUTHORIZATION_FAILED, and when all topics were asked for
// the undescribable ones are left out.
func (c *authzConn) offsetFetch(api string, req *kmsg.OffsetFetchRequest) outcome {
	if req.Version < 8 {
		if !c.check(api, Group, req.Group, Describe, codeGroup) {
			r := req.ResponseKind().(*kmsg.OffsetFetchResponse)
			r.ErrorCode = codeGroup
			for _, t := range req.Topics {
				rt := kmsg.NewOffsetFetchResponseTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewOffsetFetchResponseTopicPartition()
					rp.Partition, rp.Offset, rp.LeaderEpoch, rp.ErrorCode = p, -1, -1, codeGroup
					rp.Metadata = kmsg.StringPtr("")
					rt.Partitions = append(rt.Partitions, rp)
				}
				r.Topics = append(r.Topics, rt)
			}
			return outcome{local: r}
		}
		named := req.Topics != nil
		for _, t := range req.Topics {
			c.check(api, Topic, t.Topic, Describe, codeTopic) // record denials
		}
		return outcome{fix: func(resp kmsg.Response) {
			r := resp.(*kmsg.OffsetFetchResponse)
			kept := r.Topics[:0]
			for _, t := range r.Topics {
				if !c.can(Topic, t.Topic, Describe) {
					if !named {
						continue
					}
					for j := range t.Partitions {
						p := &t.Partitions[j]
						p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = -1, -1, kmsg.StringPtr(""), codeTopic
					}
				}
				kept = append(kept, t)
			}
			r.Topics = kept
		}}
	}

	groupOK := map[string]bool{}
	named := map[string]bool{}
	for _, g := range req.Groups {
		groupOK[g.Group] = c.check(api, Group, g.Group, Describe, codeGroup)
		named[g.Group] = g.Topics != nil
		if groupOK[g.Group] {
			for _, t := range g.Topics {
				if name, ok := c.topic(t.Topic, t.TopicID); ok {
					c.check(api, Topic, name, Describe, codeTopic) // record denials
				}
			}
		}
	}
	return outcome{fix: func(resp kmsg.Response) {
		r := resp.(*kmsg.OffsetFetchResponse)
		for i := range r.Groups {
			g := &r.Groups[i]
			if !groupOK[g.Group] {
				g.ErrorCode, g.Topics = codeGroup, nil
				continue
			}
			kept := g.Topics[:0]
			for _, t := range g.Topics {
				if name, ok := c.topic(t.Topic, t.TopicID); ok && !c.can(Topic, name, Describe) {
					if !named[g.Group] {
						continue
					}
					for j := range t.Partitions {
						p := &t.Partitions[j]
						p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = -1, -1, kmsg.StringPtr(""), codeTopic
					}
				}
				kept = append(kept, t)
			}
			g.Topics = kept
		}
	}}
}

func (c *authzConn) describeGroups(api string, req *kmsg.DescribeGroupsRequest) outcome {
	ok := map[string]bool{}
	for _, g := range req.Groups {
		ok[g] = c.check(api, Group, g, Describe, codeGroup)
	}
	return outcome{fix: func(resp kmsg.Response) {
		r := resp.(*kmsg.DescribeGroupsResponse)
		for i := range r.Groups {
			g := &r.Groups[i]
			if !ok[g.Group] {
				ng := kmsg.NewDescribeGroupsResponseGroup()
				ng.Group, ng.ErrorCode = g.Group, codeGroup
				*g = ng
			} else if req.IncludeAuthorizedOperations {
				g.AuthorizedOperations = c.authorizedOps(Group, g.Group, groupOps)
			}
		}
	}}
}

// listGroups lists every group to principals with Describe on the cluster,
// and otherwise only the groups they may Describe.
func (c *authzConn) listGroups() outcome {
	if c.can(Cluster, ClusterName, Describe) {
		return outcome{}
	}
	return outcome{fix: func(resp kmsg.Response) {
		r := resp.(*kmsg.ListGroupsResponse)
		kept := r.Groups[:0]
		for _, g := range r.Groups {
			if c.can(Group, g.Group, Describe) {
				kept = append(kept, g)
			}
		}
		r.Groups = kept
	}}
}

func (c *authzConn) deleteGroups(api string, req *kmsg.DeleteGroupsRequest) outcome {
	keep, deny := split(req.Groups, func(g string) bool {
		return !c.check(api, Group, g, Delete, codeGroup)
	})
	if len(deny) == 0 {
		return outcome{}
	}
	return partial(req, len(keep) == 0, func() { req.Groups = keep }, func(r *kmsg.DeleteGroupsResponse) {
		for _, g := range deny {
			rg := kmsg.NewDeleteGroupsResponseGroup()
			rg.Group, rg.ErrorCode = g, codeGroup
			r.Groups = append(r.Groups, rg)
		}
	})
}

func (c *authzConn) consumerGroupHeartbeat(api string, req *kmsg.ConsumerGroupHeartbeatRequest) outcome {
	code := int16(0)
	if !c.check(api, Group, req.Group, Read, codeGroup) {
		code = codeGroup
	} else {
		for _, t := range req.SubscribedTopicNames {
			if !c.check(api, Topic, t, Describe, codeTopic) {
				code = codeTopic
			}
		}
	}
	if code == 0 {
		return outcome{}
	}
	r := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	r.ErrorCode = code
	return outcome{local: r}
}

func (c *authzConn) consumerGroupDescribe(api string, req *kmsg.ConsumerGroupDescribeRequest) outcome {
	ok := map[string]bool{}
	for _, g := range req.Groups {
		ok[g] = c.check(api, Group, g, Describe, codeGroup)
	}
	return outcome{fix: func(resp kmsg.Response) {
		r := resp.(*kmsg.ConsumerGroupDescribeResponse)
		for i := range r.Groups {
			g := &r.Groups[i]
			if !ok[g.Group] {
				ng := kmsg.NewConsumerGroupDescribeResponseGroup()
				ng.Group, ng.ErrorCode = g.Group, codeGroup
				*g = ng
			} else if req.IncludeAuthorizedOperations {
				g.AuthorizedOperations = c.authorizedOps(Group, g.Group, groupOps)
			}
		}
	}}
}
