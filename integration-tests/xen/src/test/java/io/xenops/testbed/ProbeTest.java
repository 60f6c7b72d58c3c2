package io.xenops.testbed;

import java.time.Duration;
import org.junit.jupiter.api.Test;

@XenTestbed
class ProbeTest {
    @Test
    void probe(NestedXen xen, Dom0Suite dom0) {
        Dom0Java j = dom0.java();
        String base = j.commandLine("org.junit.platform.console.ConsoleLauncher", java.util.List.of("execute", "--disable-banner", "--details=summary", "--select-class=io.xenops.testbed.dom0.PrivcmdHypercallInDom0"));
        String script = String.join("\n",
            "J=" + j.javaHome() + "/bin/java",
            "cat /proc/loadavg; grep -c processor /proc/cpuinfo",
            "time $J -version 2>&1 | tail -1",
            "time $J -version 2>&1 | tail -1",
            "time $J -Xshare:off -version 2>&1 | tail -1",
            "time $J -XX:TieredStopAtLevel=1 -version 2>&1 | tail -1",
            "time " + base + " >/dev/null",
            "time " + base.replace("'-XX:TieredStopAtLevel=1' ", "") + " >/dev/null",
            "time " + base.replace("'-Xshare:auto' ", "'-XX:SharedArchiveFile=/tmp/app.jsa' '-XX:+AutoCreateSharedArchive' ") + " >/dev/null",
            "time " + base.replace("'-Xshare:auto' ", "'-XX:SharedArchiveFile=/tmp/app.jsa' '-XX:+AutoCreateSharedArchive' ") + " >/dev/null",
            "cat /proc/loadavg");
        CommandResult r = xen.run(script, Duration.ofMinutes(15));
        System.out.println(r.describe());
    }
}
