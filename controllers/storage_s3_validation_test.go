package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

func validS3() *v1alpha1.S3Storage {
	return &v1alpha1.S3Storage{
		Bucket: "registry-blobs", Endpoint: "https://s3.storage.svc:9000", ForcePathStyle: true,
		CredentialsSecretRef: &v1alpha1.S3CredentialsRef{Name: "s3-creds"},
		CABundleRef:          &v1alpha1.ConfigMapKeyRef{Name: "s3-ca"},
	}
}

// TestAdmissionS3Storage: the API server refuses s3 storage beside another
// kind and malformed s3 fields, and accepts s3 as shared storage for
// replicas > 1 with the documented defaults; the controller reports the
// blobs as kept (StorageEphemeral False, reason S3Bucket).
func TestAdmissionS3Storage(t *testing.T) {
	ns := newNamespace(t)
	bad := []struct {
		name   string
		mutate func(*v1alpha1.StorageSpec)
		want   string
	}{
		{"s3 and emptyDir", func(s *v1alpha1.StorageSpec) { s.EmptyDir = &v1alpha1.EmptyDirStorage{} },
			"storage: set only one of emptyDir, persistentVolumeClaim and s3"},
		{"s3 and a claim", func(s *v1alpha1.StorageSpec) {
			s.PersistentVolumeClaim = &v1alpha1.PVCStorage{Size: ptr.To(resource.MustParse("1Gi"))}
		}, "storage: set only one of emptyDir, persistentVolumeClaim and s3"},
		{"no region, no endpoint", func(s *v1alpha1.StorageSpec) { s.S3.Endpoint, s.S3.CABundleRef = "", nil },
			"s3: region is required unless endpoint is set"},
		{"endpoint with a path", func(s *v1alpha1.StorageSpec) { s.S3.Endpoint = "https://s3.example.com/bucket" },
			"s3.endpoint must be http(s)://host[:port]"},
		{"endpoint without scheme", func(s *v1alpha1.StorageSpec) { s.S3.Endpoint = "s3.example.com" },
			"s3.endpoint must be http(s)://host[:port]"},
		{"CA bundle for plain http", func(s *v1alpha1.StorageSpec) { s.S3.Endpoint = "http://s3.example.com:9000" },
			"s3.caBundleRef is the CA of the endpoint: it needs an https:// endpoint"},
		{"bucket with capitals", func(s *v1alpha1.StorageSpec) { s.S3.Bucket = "Registry" }, "spec.registry.storage.s3.bucket"},
		{"relative root directory", func(s *v1alpha1.StorageSpec) { s.S3.RootDirectory = "registry" },
			"spec.registry.storage.s3.rootDirectory"},
		{"credentials without a name", func(s *v1alpha1.StorageSpec) { s.S3.CredentialsSecretRef.Name = "" },
			"spec.registry.storage.s3.credentialsSecretRef.name"},
	}
	for i, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			ra := classicRA(ns, fmt.Sprintf("s3-bad-%d", i))
			ra.Spec.Registry.Storage = v1alpha1.StorageSpec{S3: validS3()}
			tc.mutate(&ra.Spec.Registry.Storage)
			err := k8s.Create(context.Background(), ra)
			if err == nil {
				t.Fatal("accepted")
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an Invalid error saying %q, got %v", tc.want, err)
			}
		})
	}

	ra := classicRA(ns, "s3-ok")
	ra.Spec.Replicas = ptr.To[int32](3)
	ra.Spec.Registry.Storage = v1alpha1.StorageSpec{S3: validS3()}
	createWithUsers(t, ra)
	// Blobs in a bucket are not ephemeral: the condition says where they are.
	got := waitCondition(t, ns, "s3-ok", v1alpha1.ConditionStorageEphemeral, metav1.ConditionFalse, v1alpha1.ReasonS3)
	s3 := got.Spec.Registry.Storage.S3
	if got.Spec.Registry.Storage.EmptyDir != nil || s3 == nil || s3.CredentialsSecretRef.AccessKeyIDKey != "accessKeyID" ||
		s3.CredentialsSecretRef.SecretAccessKeyKey != "secretAccessKey" || s3.CABundleRef.Key != "ca.crt" {
		t.Errorf("s3 defaults not applied as documented: %+v", got.Spec.Registry.Storage)
	}
}
