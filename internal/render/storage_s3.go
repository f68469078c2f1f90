package render

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// S3 storage: the driver section of config.yml holds no credential; the
// registry container reads the key pair from the user's Secret through the
// environment variables distribution maps onto storage.s3.accesskey and
// storage.s3.secretkey, and the endpoint's CA through AWS_CA_BUNDLE (read by
// the AWS SDK when the driver opens its session).
const (
	EnvS3AccessKey = "REGISTRY_STORAGE_S3_ACCESSKEY"
	EnvS3SecretKey = "REGISTRY_STORAGE_S3_SECRETKEY"
	EnvS3CABundle  = "AWS_CA_BUNDLE"
	S3CABundleDir  = "/etc/registry-auth/s3-ca"
	volS3CABundle  = "s3-ca"
	s3CABundleFile = "ca.crt"
)

// storageDriver is the driver part of config.yml's storage section.
func storageDriver(ra *v1alpha1.RegistryAuth) map[string]any {
	s3 := ra.Spec.Registry.Storage.S3
	if s3 == nil {
		return map[string]any{"filesystem": map[string]any{"rootdirectory": StorageDir}}
	}
	region := s3.Region
	if region == "" {
		// Distribution signs requests for a region; S3-compatible servers
		// accept AWS's default one.
		region = "us-east-1"
	}
	d := map[string]any{"bucket": s3.Bucket, "region": region, "forcepathstyle": s3.ForcePathStyle}
	if s3.Endpoint != "" {
		d["regionendpoint"] = s3.Endpoint
	}
	if s3.RootDirectory != "" {
		d["rootdirectory"] = s3.RootDirectory
	}
	return map[string]any{
		"s3": d,
		// Blob GETs are served through the front door, never redirected to a
		// presigned bucket URL: clients may not reach the bucket (an
		// in-cluster endpoint), and the front door stays the one way in, so
		// maintenance mode and its metrics see every request.
		"redirect": map[string]any{"disable": true},
	}
}

// s3Env is the registry container's environment for S3 storage.
func s3Env(ra *v1alpha1.RegistryAuth) []corev1.EnvVar {
	s3 := ra.Spec.Registry.Storage.S3
	if s3 == nil {
		return nil
	}
	var env []corev1.EnvVar
	if c := s3.CredentialsSecretRef; c != nil {
		ref := func(key string) *corev1.EnvVarSource {
			return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: c.Name}, Key: key,
			}}
		}
		env = append(env,
			corev1.EnvVar{Name: EnvS3AccessKey, ValueFrom: ref(orDefault(c.AccessKeyIDKey, "accessKeyID"))},
			corev1.EnvVar{Name: EnvS3SecretKey, ValueFrom: ref(orDefault(c.SecretAccessKeyKey, "secretAccessKey"))})
	}
	if s3.CABundleRef != nil {
		env = append(env, corev1.EnvVar{Name: EnvS3CABundle, Value: S3CABundleDir + "/" + s3CABundleFile})
	}
	return env
}

// s3CAVolume mounts the endpoint's CA bundle; nil without one.
func s3CAVolume(ra *v1alpha1.RegistryAuth) (*corev1.Volume, *corev1.VolumeMount) {
	s3 := ra.Spec.Registry.Storage.S3
	if s3 == nil || s3.CABundleRef == nil {
		return nil, nil
	}
	v := &corev1.Volume{Name: volS3CABundle, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: s3.CABundleRef.Name},
		Items:                []corev1.KeyToPath{{Key: orDefault(s3.CABundleRef.Key, "ca.crt"), Path: s3CABundleFile}},
	}}}
	return v, &corev1.VolumeMount{Name: volS3CABundle, MountPath: S3CABundleDir, ReadOnly: true}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
