package io.xenops.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The unit file: the keys supervision depends on, hardening that keeps KVM usable, and systemd's own check. */
class SystemdUnitIT {
    private final Dist dist = Dist.built();
    private final Path unit = dist.path("lib/systemd/system/xenopsd.service");

    @TempDir
    Path tmp;

    /** section → key → values (a key may repeat, e.g. DeviceAllow). */
    private static Map<String, Map<String, List<String>>> parse(Path file) throws Exception {
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        Map<String, List<String>> current = null;
        int n = 0;
        for (String line : Files.readAllLines(file)) {
            n++;
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) continue;
            if (l.startsWith("[")) {
                assertThat(l).as("line %d", n).endsWith("]");
                current = sections.computeIfAbsent(l.substring(1, l.length() - 1), k -> new LinkedHashMap<>());
                continue;
            }
            assertThat(current).as("line %d is outside any section", n).isNotNull();
            int eq = l.indexOf('=');
            assertThat(eq).as("line %d is not KEY=VALUE: %s", n, l).isPositive();
            current.computeIfAbsent(l.substring(0, eq).strip(), k -> new ArrayList<>()).add(l.substring(eq + 1).strip());
        }
        return sections;
    }

    @Test
    void theUnitSaysWhatSupervisionNeeds() throws Exception {
        var u = parse(unit);
        assertThat(u.keySet()).containsExactly("Unit", "Service", "Install");
        var s = u.get("Service");
        assertThat(s.get("Type")).containsExactly("notify");
        assertThat(s.get("NotifyAccess")).containsExactly("main");
        assertThat(s.get("ExecStart")).containsExactly(dist.prefix + "/bin/xenopsd");
        assertThat(s.get("KillMode")).as("VMs must survive a restart").containsExactly("process");
        assertThat(s.get("StateDirectory")).containsExactly("xenopsd");
        assertThat(s.get("Restart")).containsExactly("on-failure");
        assertThat(u.get("Install").get("WantedBy")).containsExactly("multi-user.target");
    }

    @Test
    void hardeningLeavesKvmXenAndQemuWorking() throws Exception {
        var s = parse(unit).get("Service");
        assertThat(s.getOrDefault("PrivateDevices", List.of("no"))).as("PrivateDevices hides /dev/kvm").containsOnly("no");
        assertThat(s.getOrDefault("MemoryDenyWriteExecute", List.of("no"))).as("JIT and TCG write code").containsOnly("no");
        assertThat(s.getOrDefault("ProtectProc", List.of("default"))).containsOnly("default");
        if (s.containsKey("DevicePolicy")) {
            assertThat(s.get("DeviceAllow")).contains("/dev/kvm rw", "/dev/xen/privcmd rw", "/dev/xen/xenbus rw");
        }
        assertThat(String.join(" ", s.getOrDefault("RestrictAddressFamilies", List.of("AF_UNIX AF_INET")))).contains("AF_UNIX", "AF_INET");
        assertThat(s.get("NoNewPrivileges")).containsExactly("yes");
        assertThat(s.get("ProtectSystem")).containsExactly("strict");
    }

    @Test
    void everyKeyIsOneSystemdKnows() throws Exception {
        // A typo in a key is only a warning to systemd, and a silently missing protection; catch it here too.
        Set<String> unitKeys = Set.of("Description", "Documentation", "After", "Wants", "Requires", "Before");
        Set<String> installKeys = Set.of("WantedBy", "RequiredBy", "Alias");
        Set<String> serviceKeys = Set.of("Type", "NotifyAccess", "ExecStart", "KillMode", "KillSignal", "SuccessExitStatus",
                "TimeoutStartSec", "TimeoutStopSec", "Restart", "RestartSec", "StateDirectory", "StateDirectoryMode",
                "RuntimeDirectory", "RuntimeDirectoryMode", "RuntimeDirectoryPreserve", "WorkingDirectory", "LimitNOFILE",
                "TasksMax", "NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname",
                "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality", "SystemCallArchitectures",
                "SystemCallFilter", "SystemCallErrorNumber", "RestrictAddressFamilies", "CapabilityBoundingSet",
                "DevicePolicy", "DeviceAllow", "Environment", "WatchdogSec");
        var u = parse(unit);
        assertThat(u.get("Unit").keySet()).isSubsetOf(unitKeys);
        assertThat(u.get("Service").keySet()).isSubsetOf(serviceKeys);
        assertThat(u.get("Install").keySet()).isSubsetOf(installKeys);
    }

    @Test
    void systemdAnalyzeVerifyAcceptsTheUnit() throws Exception {
        Path tool = Path.of("/usr/bin/systemd-analyze");
        if (!Files.isExecutable(tool)) tool = Path.of("/bin/systemd-analyze");
        assertThat(tool).as("systemd-analyze is needed to verify the unit: install the 'systemd' package "
                + "(./xenops test does, from PACKAGES_TEST)").isExecutable();
        // verify checks that ExecStart exists, so point the unit at this build instead of the install prefix.
        Path copy = Files.createDirectories(tmp.resolve("units")).resolve("xenopsd.service");
        Files.writeString(copy, Files.readString(unit).replace(dist.prefix + "/", dist.home + "/"));
        Dist.Run r = Dist.run(Map.of("PATH", "/usr/bin:/bin", "SYSTEMD_LOG_LEVEL", "notice"), tmp.resolve("verify.log"), 120,
                tool.toString(), "verify", copy.toString());
        assertThat(r.out().lines().filter(l -> l.contains("xenopsd.service")).toList()).as("systemd's complaints").isEmpty();
        assertThat(r.exit()).as(r.out()).isZero();
    }
}
