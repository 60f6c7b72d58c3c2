package io.xenops.daemon.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xenops.daemon.config.ConfigException;
import io.xenops.daemon.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FaultPointsAndHostMemoryTest {
    @Test
    void anArmedStepRunsTheKillerAndOnlyThatStep() {
        AtomicInteger kills = new AtomicInteger();
        FaultPoints f = new FaultPoints(Map.of("spawn.cold.created", FaultPoints.Action.KILL), kills::incrementAndGet);
        f.reach("spawn.cold.recorded");
        f.reach("spawn.warm.taken");
        assertThat(kills).hasValue(0);
        f.reach("spawn.cold.created");
        assertThat(kills).hasValue(1);
    }

    @Test
    void specsParseAndUnknownStepsAreRefused() {
        assertThat(FaultPoints.parse("").armed()).isFalse();
        assertThat(FaultPoints.parse(null).armed()).isFalse();
        assertThat(FaultPoints.parse("spawn.warm.mid-unpause:kill,pool.build.created:kill").armed()).isTrue();
        assertThatThrownBy(() -> FaultPoints.parse("spawn.warm.nowhere:kill")).hasMessageContaining("unknown fault step");
        assertThatThrownBy(() -> FaultPoints.parse("spawn.warm.taken:pause")).hasMessageContaining("unknown fault action");
        assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(new String[] {"--fault", "nope:kill"}))
                .isInstanceOf(ConfigException.class).hasMessageContaining("fault");
    }

    @Test
    void theReserveIsAConfigKeyWithADefault() {
        assertThat(new ConfigLoader(Map.of()).load(new String[] {}).hostMemoryReserveMiB()).isEqualTo(256);
        assertThat(new ConfigLoader(Map.of("XENOPSD_HOST_MEMORY_RESERVE_MIB", "0")).load(new String[] {}).hostMemoryReserveMiB()).isZero();
        assertThat(new ConfigLoader(Map.of()).load(new String[] {"--host-memory-reserve-mib", "1024"}).hostMemoryReserveMiB()).isEqualTo(1024);
        assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(new String[] {"--host-memory-reserve-mib", "-1"}))
                .isInstanceOf(ConfigException.class);
    }

    @Test
    void admissionFollowsTheReadingsAndAdmittedBuilds() {
        HostMemory m = new HostMemory(1000);
        assertThat(m.admits(64)).as("unknown memory admits").isTrue();
        assertThat(m.update(1100)).isFalse();
        assertThat(m.low()).isFalse();
        assertThat(m.admits(64)).isTrue();
        m.admitted(64);
        assertThat(m.admits(64)).as("1036 - 64 < 1000").isFalse();
        assertThat(m.update(900)).as("now low").isTrue();
        assertThat(m.low()).isTrue();
        assertThat(m.describe(64)).contains("900 MiB").contains("host_memory_reserve_mib").contains("1000 MiB");
        assertThat(m.update(5000)).as("recovered").isTrue();
        assertThat(m.low()).isFalse();
        HostMemory off = new HostMemory(0);
        off.update(1);
        assertThat(off.low()).isFalse();
        assertThat(off.admits(1 << 20)).isTrue();
    }

    @Test
    void meminfoIsReadInMiB(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("meminfo");
        Files.write(f, List.of("MemTotal:       24000000 kB", "MemFree:          100000 kB", "MemAvailable:    2097152 kB"));
        assertThat(HostMemory.file(f).availableMiB()).isEqualTo(2048);
        assertThat(HostMemory.file(dir.resolve("missing")).availableMiB()).isEqualTo(-1);
        assertThat(HostMemory.procMeminfo().availableMiB()).isPositive();
    }
}
