package testbroker

import (
	"fmt"
	"strings"
)

// Operation is a Kafka ACL operation.
type Operation string

// Operations, named as kafka-acls.sh names them.
const (
	Read            Operation = "Read"
	Write           Operation = "Write"
	Create          Operation = "Create"
	Delete          Operation = "Delete"
	Alter           Operation = "Alter"
	Describe        Operation = "Describe"
	ClusterAction   Operation = "ClusterAction"
	DescribeConfigs Operation = "DescribeConfigs"
	AlterConfigs    Operation = "AlterConfigs"
	IdempotentWrite Operation = "IdempotentWrite"
	All             Operation = "All"
)

// ResourceType is a Kafka ACL resource type.
type ResourceType string

// Resource types, named as kafka-acls.sh names them.
const (
	Topic           ResourceType = "Topic"
	Group           ResourceType = "Group"
	Cluster         ResourceType = "Cluster"
	TransactionalID ResourceType = "TransactionalId"
)

// ClusterName is the name of the single Cluster resource, as in Kafka.
// An ACL on the cluster may name it or use "*".
const ClusterName = "kafka-cluster"

// ACL allows Principal to perform Operation on the resource(s) of type
// Resource selected by Name.
//
// Principal is compared byte for byte with the connection's principal
// ("User:CN=..."); "User:*" matches every principal. Name "*" (not
// Prefixed) matches every resource of the type; with Prefixed, Name is a
// prefix of the resource name (as --resource-pattern-type prefixed).
type ACL struct {
	Principal string
	Resource  ResourceType
	Name      string
	Prefixed  bool
	Operation Operation
}

func (a ACL) String() string {
	pattern := "literal"
	if a.Prefixed {
		pattern = "prefixed"
	}
	return fmt.Sprintf("%s may %s %s %q (%s)", a.Principal, a.Operation, a.Resource, a.Name, pattern)
}

// ACLs is a minimal Kafka-style allow list: there are no DENY entries and no
// host restrictions (every ACL applies from any host). A request is allowed
// when at least one ACL allows it, as with Kafka's StandardAuthorizer and
// allow.everyone.if.no.acl.found=false. There are no super users.
//
// A nil *ACLs allows everything.
type ACLs struct {
	acls []ACL
}

// NewACLs returns an allow list holding acls. It copies the slice.
func NewACLs(acls ...ACL) *ACLs {
	return &ACLs{acls: append([]ACL(nil), acls...)}
}

// List returns a copy of the ACLs.
func (a *ACLs) List() []ACL {
	if a == nil {
		return nil
	}
	return append([]ACL(nil), a.acls...)
}

// Allowed reports whether principal may perform op on the resource of type
// rt named name. Implications are Kafka's: All implies every operation;
// Read, Write, Delete and Alter imply Describe; AlterConfigs implies
// DescribeConfigs. Nothing else is implied (Write does not imply Read,
// Create does not imply Describe). A nil receiver allows everything.
func (a *ACLs) Allowed(principal string, rt ResourceType, name string, op Operation) bool {
	if a == nil {
		return true
	}
	for _, acl := range a.acls {
		if acl.matchesPrincipal(principal) && acl.matchesResource(rt, name) && acl.implies(op) {
			return true
		}
	}
	return false
}

// anyAllowed reports whether some ACL lets principal perform op on some
// resource of type rt (Kafka's authorizeByResourceType, used for idempotent
// producers since 2.8: Write on any topic stands in for IdempotentWrite).
func (a *ACLs) anyAllowed(principal string, rt ResourceType, op Operation) bool {
	if a == nil {
		return true
	}
	for _, acl := range a.acls {
		if acl.matchesPrincipal(principal) && acl.Resource == rt && (acl.Operation == op || acl.Operation == All) {
			return true
		}
	}
	return false
}

func (acl ACL) matchesPrincipal(p string) bool {
	return acl.Principal == p || acl.Principal == "User:*"
}

func (acl ACL) matchesResource(rt ResourceType, name string) bool {
	if acl.Resource != rt {
		return false
	}
	if acl.Prefixed {
		return strings.HasPrefix(name, acl.Name)
	}
	return acl.Name == "*" || acl.Name == name
}

func (acl ACL) implies(op Operation) bool {
	if acl.Operation == All || acl.Operation == op {
		return true
	}
	switch op {
	case Describe:
		switch acl.Operation {
		case Read, Write, Delete, Alter:
			return true
		}
	case DescribeConfigs:
		return acl.Operation == AlterConfigs
	}
	return false
}

var (
	validOps = map[Operation]bool{Read: true, Write: true, Create: true, Delete: true, Alter: true, Describe: true,
		ClusterAction: true, DescribeConfigs: true, AlterConfigs: true, IdempotentWrite: true, All: true}
	validResources = map[ResourceType]bool{Topic: true, Group: true, Cluster: true, TransactionalID: true}
)

// Validate reports the first ACL that can never match anything: an
// unknown operation or resource type, an empty name, or a principal that
// is not "Type:name". Start calls it.
func (a *ACLs) Validate() error {
	if a == nil {
		return nil
	}
	for i, acl := range a.acls {
		switch {
		case !validOps[acl.Operation]:
			return fmt.Errorf("acl %d (%v): unknown operation %q", i, acl, acl.Operation)
		case !validResources[acl.Resource]:
			return fmt.Errorf("acl %d (%v): unknown resource type %q", i, acl, acl.Resource)
		case acl.Name == "":
			return fmt.Errorf("acl %d (%v): empty resource name (use \"*\" for all)", i, acl)
		case acl.Prefixed && acl.Name == "*":
			return fmt.Errorf("acl %d (%v): \"*\" is a wildcard only for literal ACLs", i, acl)
		case !strings.Contains(acl.Principal, ":") || strings.HasPrefix(acl.Principal, ":"):
			return fmt.Errorf("acl %d (%v): principal must look like \"User:<name>\"", i, acl)
		}
	}
	return nil
}
