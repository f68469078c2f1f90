package render

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
)

// Container and volume names.
const (
	ContainerRegistry = "registry"
	ContainerAuth     = "auth"

	volRegistryConfig = "registry-config"
	volTokenBundle    = "token-bundle"
	volAuthConfig     = "auth-config"
	volServingTLS     = "serving-tls"
	volTokenSigning   = "token-signing"
	volStorage        = "storage"
	volTmp            = "tmp"

	// nonRootUID runs both containers; fsGroup makes the storage writable.
	nonRootUID = 65532
	// A stopping pod keeps serving while Endpoints and kube-proxy drop it:
	// the front door pauses frontDoorPause before draining (its own 25s drain
	// timeout); the registry behind it pauses registryPause, so it still takes
	// the front door's requests until those have drained, then drains itself
	// (http.draintimeout). terminationGrace covers both. 5s of pause was seen
	// too short on a busy 2-core node: kube-proxy still sent new connections
	// to a stopped front door for up to 8s (connection refused, 7 of ~12k
	// requests during a token-CA rotation); 15s leaves room for that.
	frontDoorPause   = 15
	registryPause    = 40
	terminationGrace = 70
)

// DesiredDeployment builds the registry pods. podAnnotations carry the
// restart hash (see RestartHash), so only inputs the containers cannot reload
// roll them, and the hashes rotations wait on (see PodAnnotations).
func DesiredDeployment(ra *v1alpha1.RegistryAuth, opts Options, podAnnotations map[string]string) *appsv1.Deployment {
	names := NamesFor(ra)
	pod := corev1.PodSpec{
		AutomountServiceAccountToken:  ptr.To(false),
		EnableServiceLinks:            ptr.To(false),
		TerminationGracePeriodSeconds: ptr.To[int64](terminationGrace),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To[int64](nonRootUID),
			RunAsGroup:     ptr.To[int64](nonRootUID),
			FSGroup:        ptr.To[int64](nonRootUID),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Volumes: commonVolumes(ra, names),
	}
	if Provider(ra) == v1alpha1.ProviderDockerAuth {
		pod.Containers = []corev1.Container{registryContainer(ra, opts, true), dockerAuthContainer(ra, opts)}
	} else {
		pod.Containers = []corev1.Container{builtinAuthContainer(ra, opts), registryContainer(ra, opts, false)}
	}
	for i := range pod.Containers {
		// A crashing container's last log lines become its termination
		// message, which the operator quotes in the Available condition.
		pod.Containers[i].TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	}
	addMaintenance(ra, &pod)
	addAPIAccess(ra, &pod)
	spreadReplicas(ra, &pod)
	applyPodSettings(ra, &pod)
	addStorageUsage(ra, &pod)
	return &appsv1.Deployment{
		TypeMeta:   typeMeta("apps/v1", "Deployment"),
		ObjectMeta: objectMeta(ra, names.Deployment, "registry"),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(ptr.Deref(ra.Spec.Replicas, 1)),
			Selector: &metav1.LabelSelector{MatchLabels: SelectorLabels(ra)},
			Strategy: strategy(ra),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: Labels(ra, "registry"), Annotations: podAnnotations},
				Spec:       pod,
			},
		},
	}
}

// strategy: a ReadWriteOnce claim cannot be mounted by a surge pod on another
// node, so such registries stop the old pod first; everything else surges.
func strategy(ra *v1alpha1.RegistryAuth) appsv1.DeploymentStrategy {
	if pvc := ra.Spec.Registry.Storage.PersistentVolumeClaim; pvc != nil && !hasAccessMode(pvc, corev1.ReadWriteMany) {
		return appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	return appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			MaxSurge:       ptr.To(intstr.FromInt32(1)),
		},
	}
}

func builtinAuthContainer(ra *v1alpha1.RegistryAuth, opts Options) corev1.Container {
	return corev1.Container{
		Name:  ContainerAuth,
		Image: AuthImage(ra, opts),
		Args: append([]string{
			"auth-server",
			"--config=" + AuthConfigDir + "/" + authconfig.ConfigFile,
			"--upstream=http://127.0.0.1:" + strconv.Itoa(PortRegistryHTTP),
			"--monitoring-addr=:" + strconv.Itoa(PortAuthMonitor),
			"--refresh-key-file=" + AuthConfigDir + "/" + authconfig.RefreshKeyFile,
		}, trustedProxiesArg(ra)...),
		Ports: []corev1.ContainerPort{
			{Name: "https", ContainerPort: PortFrontDoor, Protocol: corev1.ProtocolTCP},
			{Name: "auth-monitor", ContainerPort: PortAuthMonitor, Protocol: corev1.ProtocolTCP},
		},
		ReadinessProbe:  httpProbe("/readyz", PortAuthMonitor, 5),
		LivenessProbe:   httpProbe("/healthz", PortAuthMonitor, 10),
		Lifecycle:       preStopSleep(frontDoorPause),
		VolumeMounts:    authMounts(AuthConfigDir),
		Resources:       ra.Spec.Auth.Resources,
		SecurityContext: containerSecurity(),
	}
}

func dockerAuthContainer(ra *v1alpha1.RegistryAuth, opts Options) corev1.Container {
	return corev1.Container{
		Name:  ContainerAuth,
		Image: AuthImage(ra, opts),
		// --logtostderr, not --alsologtostderr: the latter makes docker_auth's
		// logger (glog) also write files under /tmp, which the read-only root
		// filesystem refuses (it exits at its first log line). A writable
		// /tmp would only grow files nobody reads and the kubelet never
		// rotates; stderr is what `kubectl logs` shows and the node rotates.
		Args:  []string{"--logtostderr", "--v=2", DockerAuthConfigDir + "/" + authconfig.ConfigFile},
		Ports: []corev1.ContainerPort{{Name: "auth", ContainerPort: PortAuthSplit, Protocol: corev1.ProtocolTCP}},
		// docker_auth has no health endpoint; its index page ("/") answers
		// 200 over TLS and logs nothing. A TCP probe would log a TLS
		// handshake error at every period.
		ReadinessProbe:  httpsProbe("/", PortAuthSplit, 5),
		LivenessProbe:   httpsProbe("/", PortAuthSplit, 10),
		Lifecycle:       preStopSleep(frontDoorPause),
		VolumeMounts:    authMounts(DockerAuthConfigDir),
		Resources:       ra.Spec.Auth.Resources,
		SecurityContext: containerSecurity(),
	}
}

// authMounts: the auth container's three Secret volumes; each is updated
// by the kubelet on its own, and both token servers watch them.
func authMounts(configDir string) []corev1.VolumeMount {
	return []corev1.VolumeMount{
		{Name: volAuthConfig, MountPath: configDir, ReadOnly: true},
		{Name: volServingTLS, MountPath: ServingTLSDir, ReadOnly: true},
		{Name: volTokenSigning, MountPath: TokenSigningDir, ReadOnly: true},
	}
}

func registryContainer(ra *v1alpha1.RegistryAuth, opts Options, servesTLS bool) corev1.Container {
	c := corev1.Container{
		Name:  ContainerRegistry,
		Image: RegistryImage(ra, opts),
		Args:  []string{"serve", RegistryConfigDir + "/" + RegistryConfigFile},
		Env: []corev1.EnvVar{
			{Name: "REGISTRY_HTTP_SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: NamesFor(ra).HTTPSecret}, Key: KeyHTTPSecret,
			}}},
			// Nothing collects traces: without this the registry logs export errors.
			{Name: "OTEL_TRACES_EXPORTER", Value: "none"},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: volRegistryConfig, MountPath: RegistryConfigDir, ReadOnly: true},
			{Name: volTokenBundle, MountPath: TokenBundleDir, ReadOnly: true},
			{Name: volStorage, MountPath: StorageDir},
			{Name: volTmp, MountPath: "/tmp"},
		},
		Resources:       ra.Spec.Registry.Resources,
		SecurityContext: containerSecurity(),
	}
	c.Env = append(c.Env, s3Env(ra)...)
	if _, m := s3CAVolume(ra); m != nil {
		c.VolumeMounts = append(c.VolumeMounts, *m)
	}
	// Only what the Service routes to listens on the pod IP. The plain-HTTP
	// API (builtin) and the debug server (pprof, expvar, metrics) are bound
	// to 127.0.0.1 by the rendered config, so nothing in the cluster gets
	// around the front door; they declare no containerPort.
	if servesTLS {
		// The classic layout: the registry is the TLS endpoint; it never
		// reloads its certificate, so a renewal rolls the pods (gracefully).
		// Its probes use "/" over TLS: distribution answers it 200 while its
		// health checks pass (503 when they fail), needs no token and logs no
		// access line for it, where a TCP probe logs a TLS handshake error.
		c.Ports = []corev1.ContainerPort{{Name: "https", ContainerPort: PortFrontDoor, Protocol: corev1.ProtocolTCP}}
		c.ReadinessProbe = httpsProbe("/", PortFrontDoor, 5)
		c.LivenessProbe = httpsProbe("/", PortFrontDoor, 10)
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: volServingTLS, MountPath: ServingTLSDir, ReadOnly: true})
		c.Lifecycle = preStopSleep(frontDoorPause)
	} else {
		// Behind the front door the registry has no probe of its own: the
		// kubelet probes the pod IP, where the registry does not listen. The
		// auth container's /readyz checks the registry through loopback, so
		// a broken registry takes the pod out of the Service; a registry that
		// exits is restarted by the kubelet as any container is.
		c.Lifecycle = preStopSleep(registryPause)
	}
	return c
}

func commonVolumes(ra *v1alpha1.RegistryAuth, names Names) []corev1.Volume {
	secret := func(name, secretName string, items ...corev1.KeyToPath) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: secretName, Items: items, DefaultMode: ptr.To[int32](0o440),
		}}}
	}
	tlsItems := []corev1.KeyToPath{{Key: corev1.TLSCertKey, Path: corev1.TLSCertKey}, {Key: corev1.TLSPrivateKeyKey, Path: corev1.TLSPrivateKeyKey}}
	vols := []corev1.Volume{
		{Name: volRegistryConfig, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: names.RegistryConfig},
		}}},
		// Only the bundle: the registry never sees the token CA's private key.
		secret(volTokenBundle, names.TokenCA, corev1.KeyToPath{Key: TokenBundleFile, Path: TokenBundleFile}),
		secret(volAuthConfig, names.AuthConfig),
		secret(volServingTLS, ServingSecretName(ra), tlsItems...),
		secret(volTokenSigning, names.TokenSigning, tlsItems...),
		storageVolume(ra, names),
		{Name: volTmp, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if v, _ := s3CAVolume(ra); v != nil {
		vols = append(vols, *v)
	}
	return vols
}

func storageVolume(ra *v1alpha1.RegistryAuth, names Names) corev1.Volume {
	st := ra.Spec.Registry.Storage
	if st.PersistentVolumeClaim != nil {
		return corev1.Volume{Name: volStorage, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: ClaimName(ra)},
		}}
	}
	ed := &corev1.EmptyDirVolumeSource{}
	if st.EmptyDir != nil {
		ed.SizeLimit = st.EmptyDir.SizeLimit
	}
	return corev1.Volume{Name: volStorage, VolumeSource: corev1.VolumeSource{EmptyDir: ed}}
}

// ServingSecretName is the Secret the pods mount for serving. Whatever the
// source (operator, cert-manager, the user's own Secret), the operator copies
// the certificate into it, so switching sources never changes the pod template.
func ServingSecretName(ra *v1alpha1.RegistryAuth) string {
	return NamesFor(ra).ServingTLS
}

func containerSecurity() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

func httpProbe(path string, port int32, period int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(port), Scheme: corev1.URISchemeHTTP}},
		PeriodSeconds:    period,
		TimeoutSeconds:   3,
		FailureThreshold: 3,
	}
}

// httpsProbe: the kubelet does not verify the certificate of an HTTPS probe.
func httpsProbe(path string, port int32, period int32) *corev1.Probe {
	p := httpProbe(path, port, period)
	p.HTTPGet.Scheme = corev1.URISchemeHTTPS
	return p
}

// preStopSleep keeps a stopping container serving for seconds before its
// SIGTERM; a sleep action needs no shell in the image (ours and docker_auth's
// have none).
func preStopSleep(seconds int64) *corev1.Lifecycle {
	return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: seconds}}}
}

func hasAccessMode(pvc *v1alpha1.PVCStorage, m corev1.PersistentVolumeAccessMode) bool {
	for _, am := range pvc.AccessModes {
		if am == m {
			return true
		}
	}
	return false
}

// trustedProxiesArg passes spec.expose.trustedProxies to the front door.
func trustedProxiesArg(ra *v1alpha1.RegistryAuth) []string {
	if len(ra.Spec.Expose.TrustedProxies) == 0 {
		return nil
	}
	p := make([]string, len(ra.Spec.Expose.TrustedProxies))
	for i, a := range ra.Spec.Expose.TrustedProxies {
		p[i] = string(a)
	}
	return []string{"--trusted-proxies=" + strings.Join(p, ",")}
}
