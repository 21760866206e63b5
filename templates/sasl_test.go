package templates_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kafkatls/kafkatls/templates"
)

// The values package sasl computes (written out here: templates imports
// nothing of this module, its tests neither).
const (
	scramJAAS = `org.apache.kafka.common.security.scram.ScramLoginModule required username="orders-app" password="Zq8\"pw\\x=y";`
	oauthJAAS = `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;`
	allowList = "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=file:/home/alice/kafka-pki/certs/orders-app/token.jwt"
)

func saslCases() []renderCase {
	dir := "/home/alice/kafka-pki/certs/orders-app"
	client := func(s *templates.SASL, formats ...string) templates.Data {
		return templates.Data{
			Name: "orders-app", Role: "client", Files: filesIn(dir), Password: goldenPassword, Formats: formats,
			Principal: "User:orders-app", Bootstrap: "kafka-1:9095,kafka-2:9095", SASL: s,
		}
	}
	scram := &templates.SASL{Mechanism: "SCRAM-SHA-512", JAASConfig: scramJAAS, Username: "orders-app",
		Password: `Zq8"pw\x=y`, PasswordFile: dir + "/scram-password"}
	oauth := &templates.SASL{Mechanism: "OAUTHBEARER", JAASConfig: oauthJAAS,
		LoginCallbackHandler: "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
		TokenEndpointURL:     "file:" + dir + "/token.jwt", TokenFile: dir + "/token.jwt", AllowList: allowList}
	scramPEM := *scram
	// An external IdP (Keycloak): the client secret holds characters JAAS
	// and .properties both escape.
	idpJAAS := `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="orders-app" clientSecret="s\"e=c\\r:et" ssl.truststore.type="PEM" ssl.truststore.location="` + dir + `/ca.crt";`
	idp := &templates.SASL{Mechanism: "OAUTHBEARER", JAASConfig: idpJAAS,
		LoginCallbackHandler: "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
		TokenEndpointURL:     "https://keycloak.example.com:8443/realms/kafka/protocol/openid-connect/token",
		ClientID:             "orders-app", ClientSecret: `s"e=c\r:et`, ClientSecretFile: dir + "/client-secret.txt", IdPTrustFile: dir + "/ca.crt",
		AllowList: "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=https://keycloak.example.com:8443/realms/kafka/protocol/openid-connect/token"}
	return []renderCase{
		{"sasl/client-scram", client(scram, allFormats...)},
		{"sasl/client-scram-pem-only", client(&scramPEM, "pem")},
		{"sasl/client-oauthbearer", client(oauth, allFormats...)},
		{"sasl/broker-kraft", templates.Data{
			Name: "kafka-1", Role: "broker", Files: filesIn("/etc/kafka/secrets/kafka-1"),
			Password: goldenPassword, Formats: allFormats, Principal: brokerPrincipal,
			SuperUsers: serverSuperUsers, Hosts: []string{"kafka-1"}, Mode: "kraft",
			SASL: &templates.SASL{
				Mechanisms: []templates.ServerMechanism{
					{Mechanism: "SCRAM-SHA-512", JAASConfig: "org.apache.kafka.common.security.scram.ScramLoginModule required;"},
					{Mechanism: "OAUTHBEARER", JAASConfig: oauthJAAS,
						CallbackHandler: "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler"},
				},
				JWKSURL: "file:/etc/kafka/oauth/jwks.json", ExpectedIssuer: "kafkatls", ExpectedAudience: "kafka",
				AllowList: "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=file:/etc/kafka/oauth/jwks.json",
			},
		}},
		{"sasl/client-oauthbearer-idp", client(idp, allFormats...)},
		{"sasl/broker-kraft-idp", templates.Data{
			Name: "kafka-1", Role: "broker", Files: filesIn("/etc/kafka/secrets/kafka-1"),
			Password: goldenPassword, Formats: allFormats, Principal: brokerPrincipal,
			SuperUsers: serverSuperUsers, Hosts: []string{"kafka-1"}, Mode: "kraft",
			SASL: &templates.SASL{
				Mechanisms: []templates.ServerMechanism{
					{Mechanism: "OAUTHBEARER", JAASConfig: `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ssl.truststore.type="PEM" ssl.truststore.location="/etc/kafka/secrets/kafka-1/ca.crt" unsecuredLoginStringClaim_sub="kafka-broker-unused";`,
						CallbackHandler: "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler"},
				},
				JWKSURL:        "https://keycloak.example.com:8443/realms/kafka/protocol/openid-connect/certs",
				ExpectedIssuer: "https://keycloak.example.com:8443/realms/kafka", ExpectedAudience: "kafka", SubClaim: "azp",
				AllowList: "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=https://keycloak.example.com:8443/realms/kafka/protocol/openid-connect/certs",
			},
		}},
	}
}

func TestSASLGolden(t *testing.T) {
	want := map[string][]string{
		"sasl/client-scram":          {"client.properties", "kafkajs-ssl.js", "kcat.conf", "spring-boot.properties"},
		"sasl/client-scram-pem-only": {"client.properties", "kafkajs-ssl.js", "kcat.conf", "spring-boot.properties"},
		// librdkafka reads no token file: no kcat.conf.
		"sasl/client-oauthbearer": {"client.properties", "kafkajs-ssl.js", "spring-boot.properties"},
		"sasl/broker-kraft":       {"client.properties", "server.properties"},
		// librdkafka asks the IdP itself (sasl.oauthbearer.method=oidc).
		"sasl/client-oauthbearer-idp": {"client.properties", "kafkajs-ssl.js", "kcat.conf", "spring-boot.properties"},
		"sasl/broker-kraft-idp":       {"client.properties", "server.properties"},
	}
	for _, c := range saslCases() {
		t.Run(c.dir, func(t *testing.T) {
			out := render(t, c.d)
			if got := sortedNames(out); !slices.Equal(got, want[c.dir]) {
				t.Fatalf("files %v, want %v", got, want[c.dir])
			}
			dir := filepath.Join("testdata", filepath.FromSlash(c.dir))
			for name, data := range out {
				path := filepath.Join(dir, name+".golden")
				if *update {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				golden, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./templates -update)", err)
				}
				if !bytes.Equal(data, golden) {
					t.Errorf("%s differs from %s (run go test ./templates -update and review the diff):\n%s", name, path, data)
				}
			}
		})
	}
}

// The SASL configs load back, through the java.util.Properties reader, to
// exactly the values given: the JAAS line with its quotes and backslashes,
// and no keystore (the client logs in with SASL, not a certificate).
func TestSASLPropertiesRoundTrip(t *testing.T) {
	for _, c := range saslCases() {
		if c.d.Role != "client" {
			continue
		}
		t.Run(c.dir, func(t *testing.T) {
			out := render(t, c.d)
			props := templates.ParseProperties(out["client.properties"])
			if got := props["sasl.jaas.config"]; got != c.d.SASL.JAASConfig {
				t.Errorf("sasl.jaas.config loads as %q, want %q", got, c.d.SASL.JAASConfig)
			}
			if props["security.protocol"] != "SASL_SSL" || props["sasl.mechanism"] != c.d.SASL.Mechanism {
				t.Errorf("security.protocol=%q sasl.mechanism=%q", props["security.protocol"], props["sasl.mechanism"])
			}
			for k := range props {
				if strings.HasPrefix(k, "ssl.keystore.") || k == "ssl.key.password" {
					t.Errorf("a SASL client config sets %s", k)
				}
			}
			spring := templates.ParseProperties(out["spring-boot.properties"])
			if got := spring["spring.kafka.properties.sasl.jaas.config"]; got != c.d.SASL.JAASConfig {
				t.Errorf("spring sasl.jaas.config loads as %q", got)
			}
		})
	}
}

func TestSASLFieldErrors(t *testing.T) {
	base := saslCases()[0].d
	for _, tc := range []struct {
		name, field string
		mut         func(d *templates.Data)
	}{
		{"unknown mechanism", "SASL.Mechanism", func(d *templates.Data) { d.SASL.Mechanism = "PLAIN" }},
		{"scram without password", "SASL.Password", func(d *templates.Data) { d.SASL.Password = "" }},
		{"kcat escape", "SASL.Password", func(d *templates.Data) { d.SASL.Password = `a\=b` }},
		{"bad port", "SASL.Port", func(d *templates.Data) { d.SASL.Port = 70000 }},
		{"idp without secret file", "SASL.ClientSecretFile", func(d *templates.Data) {
			*d.SASL = *idpCase().SASL
			d.SASL.ClientSecretFile = ""
		}},
		{"idp secret kcat rewrites", "SASL.ClientSecret", func(d *templates.Data) {
			*d.SASL = *idpCase().SASL
			d.SASL.ClientSecret = `a\=b`
		}},
		{"idp without trust file", "SASL.IdPTrustFile", func(d *templates.Data) {
			*d.SASL = *idpCase().SASL
			d.SASL.IdPTrustFile = ""
		}},
		{"idp broker sub claim with a newline", "SASL.SubClaim", func(d *templates.Data) {
			*d = idpBrokerCase()
			s := *d.SASL
			s.SubClaim = "azp\nsuper.users=User:x"
			d.SASL = &s
		}},
		{"controller", "SASL", func(d *templates.Data) {
			d.Role, d.Principal, d.Hosts = "controller", controllerPrincipal, []string{"c1"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := base
			s := *base.SASL
			d.SASL = &s
			tc.mut(&d)
			_, err := templates.Render(d)
			fe, ok := err.(*templates.FieldError)
			if !ok || fe.Field != tc.field {
				t.Fatalf("Render: %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
}

// A broker's client.properties is its admin config on the mTLS listener
// (acls.sh and scram.sh run with it): its SASL_SSL listener changes nothing there.
func TestSASLBrokerAdminConfigStaysMTLS(t *testing.T) {
	for _, c := range saslCases() {
		if c.d.Role != "broker" {
			continue
		}
		plain := c.d
		plain.SASL = nil
		if got, want := render(t, c.d)["client.properties"], render(t, plain)["client.properties"]; !bytes.Equal(got, want) {
			t.Errorf("%s: the broker's client.properties changed with a SASL_SSL listener:\n%s", c.dir, got)
		}
	}
}

// idpCase and idpBrokerCase are the external-IdP golden cases.
func idpCase() templates.Data {
	for _, c := range saslCases() {
		if c.dir == "sasl/client-oauthbearer-idp" {
			return c.d
		}
	}
	panic("no sasl/client-oauthbearer-idp case")
}

func idpBrokerCase() templates.Data {
	for _, c := range saslCases() {
		if c.dir == "sasl/broker-kraft-idp" {
			return c.d
		}
	}
	panic("no sasl/broker-kraft-idp case")
}
