package testbroker

import "testing"

func TestACLsAllowed(t *testing.T) {
	const p = "User:CN=app"
	a := NewACLs(
		ACL{Principal: p, Resource: Topic, Name: "orders", Operation: Read},
		ACL{Principal: p, Resource: Topic, Name: "logs-", Prefixed: true, Operation: Write},
		ACL{Principal: p, Resource: Topic, Name: "cfg", Operation: AlterConfigs},
		ACL{Principal: p, Resource: Topic, Name: "made", Operation: Create},
		ACL{Principal: p, Resource: Group, Name: "*", Operation: Read},
		ACL{Principal: "User:*", Resource: Topic, Name: "public", Operation: Describe},
		ACL{Principal: "User:CN=admin", Resource: Cluster, Name: ClusterName, Operation: All},
	)
	cases := []struct {
		principal string
		rt        ResourceType
		name      string
		op        Operation
		want      bool
	}{
		{p, Topic, "orders", Read, true},
		{p, Topic, "orders", Describe, true}, // Read implies Describe
		{p, Topic, "orders", Write, false},
		{p, Topic, "orders2", Read, false}, // literal is exact
		{p, Topic, "logs-app", Write, true},
		{p, Topic, "logs-app", Describe, true}, // Write implies Describe
		{p, Topic, "logs-app", Read, false},    // Write does not imply Read
		{p, Topic, "logs", Write, false},       // prefix must match
		{p, Topic, "cfg", DescribeConfigs, true},
		{p, Topic, "cfg", Describe, false},
		{p, Topic, "made", Create, true},
		{p, Topic, "made", Describe, false}, // Create does not imply Describe
		{p, Group, "anything", Read, true},  // literal "*" is a wildcard
		{p, Group, "anything", Describe, true},
		{p, Group, "anything", Delete, false},
		{p, Topic, "public", Describe, true}, // User:* matches everyone
		{"User:CN=other", Topic, "public", Describe, true},
		{"User:CN=other", Topic, "public", Read, false},
		{"User:CN=admin", Cluster, ClusterName, Create, true}, // All implies everything
		{"User:CN=admin", Cluster, ClusterName, IdempotentWrite, true},
		{"User:CN=admin", Topic, "orders", Read, false}, // only on its resource type
		{"User:CN=app2", Topic, "orders", Read, false},  // principals compared exactly
		{"User:cn=app", Topic, "orders", Read, false},
	}
	for _, c := range cases {
		if got := a.Allowed(c.principal, c.rt, c.name, c.op); got != c.want {
			t.Errorf("Allowed(%q, %s, %q, %s) = %v; want %v", c.principal, c.rt, c.name, c.op, got, c.want)
		}
	}

	var none *ACLs
	if !none.Allowed("User:x", Topic, "t", Write) {
		t.Error("nil ACLs must allow everything")
	}
	if NewACLs().Allowed("User:x", Topic, "t", Describe) {
		t.Error("empty ACLs must allow nothing")
	}
	if !a.anyAllowed(p, Topic, Write) || a.anyAllowed(p, Cluster, Write) || a.anyAllowed("User:CN=nobody", Topic, Write) {
		t.Error("anyAllowed")
	}
}

func TestACLsValidate(t *testing.T) {
	good := ACL{Principal: "User:a", Resource: Topic, Name: "t", Operation: Read}
	if err := NewACLs(good).Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []ACL{
		{Principal: "User:a", Resource: Topic, Name: "t", Operation: "read"},
		{Principal: "User:a", Resource: "topic", Name: "t", Operation: Read},
		{Principal: "User:a", Resource: Topic, Name: "", Operation: Read},
		{Principal: "User:a", Resource: Topic, Name: "*", Prefixed: true, Operation: Read},
		{Principal: "CN=a", Resource: Topic, Name: "t", Operation: Read},
	}
	for _, acl := range bad {
		if err := NewACLs(good, acl).Validate(); err == nil {
			t.Errorf("Validate accepted %v", acl)
		}
	}
}
