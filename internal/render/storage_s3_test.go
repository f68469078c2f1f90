package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// s3Storage keeps blobs in a bucket of an S3-compatible server with a
// private CA, three replicas.
func s3Storage() *v1alpha1.RegistryAuth {
	ra := classic()
	ra.Spec.Replicas = ptr.To[int32](3)
	ra.Spec.Registry.Storage = v1alpha1.StorageSpec{S3: &v1alpha1.S3Storage{
		Bucket: "registry-blobs", Endpoint: "https://s3.storage.svc:9000", ForcePathStyle: true, RootDirectory: "/acme",
		CredentialsSecretRef: &v1alpha1.S3CredentialsRef{Name: "s3-creds", AccessKeyIDKey: "id", SecretAccessKeyKey: "secret"},
		CABundleRef:          &v1alpha1.ConfigMapKeyRef{Name: "s3-ca", Key: "bundle.pem"},
	}}
	return ra
}

// TestS3StorageConfig: distribution reads the rendered s3 driver as such,
// with redirects off, and the credentials reach the registry only through
// environment variables from the user's Secret (never the ConfigMap).
func TestS3StorageConfig(t *testing.T) {
	ra := s3Storage()
	reg, err := RegistryConfig(ra, Wire(ra, testOptions, liveService(ra)))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configuration.Parse(bytes.NewReader(reg))
	if err != nil {
		t.Fatalf("distribution rejects the rendered config: %v", err)
	}
	p := cfg.Storage.Parameters()
	if cfg.Storage.Type() != "s3" || p["bucket"] != "registry-blobs" || p["regionendpoint"] != "https://s3.storage.svc:9000" ||
		p["region"] != "us-east-1" || p["forcepathstyle"] != true || p["rootdirectory"] != "/acme" {
		t.Errorf("s3 driver not rendered as asked: type %q, %v", cfg.Storage.Type(), p)
	}
	if _, ok := p["accesskey"]; ok || strings.Contains(string(reg), "secretkey") {
		t.Errorf("a credential is in the config:\n%s", reg)
	}
	if cfg.Storage["redirect"]["disable"] != true || cfg.Storage["delete"]["enabled"] != true {
		t.Errorf("redirect must be disabled and delete enabled: %v", cfg.Storage)
	}

	d := DesiredDeployment(ra, testOptions, nil)
	var reg0 *corev1.Container
	for i := range d.Spec.Template.Spec.Containers {
		if d.Spec.Template.Spec.Containers[i].Name == ContainerRegistry {
			reg0 = &d.Spec.Template.Spec.Containers[i]
		}
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range reg0.Env {
		env[e.Name] = e
	}
	for name, key := range map[string]string{EnvS3AccessKey: "id", EnvS3SecretKey: "secret"} {
		e := env[name]
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
			e.ValueFrom.SecretKeyRef.Name != "s3-creds" || e.ValueFrom.SecretKeyRef.Key != key {
			t.Errorf("%s must come from Secret s3-creds key %s: %+v", name, key, e)
		}
	}
	if env[EnvS3CABundle].Value != S3CABundleDir+"/ca.crt" {
		t.Errorf("%s = %q", EnvS3CABundle, env[EnvS3CABundle].Value)
	}
}

// TestS3WithoutCredentialsUsesTheSDKChain: no Secret named, no key variables
// (the SDK's instance or pod identity applies), no CA volume.
func TestS3WithoutCredentialsUsesTheSDKChain(t *testing.T) {
	ra := s3Storage()
	ra.Spec.Registry.Storage.S3.CredentialsSecretRef = nil
	ra.Spec.Registry.Storage.S3.CABundleRef = nil
	if env := s3Env(ra); len(env) != 0 {
		t.Errorf("env without credentials: %+v", env)
	}
	for _, v := range DesiredDeployment(ra, testOptions, nil).Spec.Template.Spec.Volumes {
		if v.Name == volS3CABundle {
			t.Errorf("CA volume without caBundleRef")
		}
	}
}
