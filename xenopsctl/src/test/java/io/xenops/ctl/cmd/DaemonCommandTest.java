package io.xenops.ctl.cmd;

import io.xenops.ctl.Cli;
import io.xenops.ctl.CliRun;
import io.xenops.ctl.CliRun.Result;
import io.xenops.ctl.ExitCodes;
import io.xenops.ctl.XenopsCtl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.Map;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The base of the commands that talk to xenopsd: how they reach the run, check arguments and end. */
class DaemonCommandTest {
    /** Nothing listens on port 1: a test here that sent a request would see exit 3. */
    private final XenopsCtl root = new XenopsCtl(Map.of("XENOPS_URL", "http://127.0.0.1:1"), Clock.systemUTC());
    private final CommandLine cli = Cli.build(root);

    @AfterEach
    void close() {
        root.close();
    }

    /** The command the parser chose for {@code args}, however deep. */
    private DaemonCommand parsed(String... args) {
        ParseResult r = cli.parseArgs(args);
        while (r.hasSubcommand()) {
            r = r.subcommand();
        }
        return (DaemonCommand) r.commandSpec().userObject();
    }

    @Test
    void topLevelAndNestedCommandsShareTheRunsClientAndRenderer() {
        DaemonCommand show = parsed("show", "vm-3f9c2a7b1d04");
        DaemonCommand inspect = parsed("--json", "image", "inspect", "hello");

        assertThat(show.ctl()).isSameAs(root);
        assertThat(inspect.ctl()).isSameAs(root);
        assertThat(inspect.api()).isSameAs(root.api());
        assertThat(inspect.renderer()).isSameAs(root.renderer());
    }

    @Test
    void argumentsAreStripped() {
        DaemonCommand destroy = parsed("destroy", " vm-3f9c2a7b1d04\t");

        assertThat(((VmCommand) destroy).vmId()).isEqualTo("vm-3f9c2a7b1d04");
    }

    @Test
    void aBlankArgumentIsAUsageErrorOfTheCommandThatTookIt() {
        DaemonCommand set = parsed("pool", "set", " ", "2");

        for (String blank : new String[] {null, "", " \t"}) {
            assertThatThrownBy(() -> set.nonBlank("IMAGE", blank))
                    .isInstanceOfSatisfying(ParameterException.class, e -> {
                        assertThat(e).hasMessage("IMAGE must not be empty");
                        // So the hint names `xenopsctl pool set --help`, not the top-level help.
                        assertThat(e.getCommandLine().getCommandSpec().qualifiedName()).isEqualTo("xenopsctl pool set");
                    });
        }
    }

    @Test
    void returningIsExitZeroAndAFailureIsLeftToCli() {
        class Probe extends DaemonCommand {
            int runs;
            RuntimeException failure;

            @Override
            void run() {
                runs++;
                if (failure != null) {
                    throw failure;
                }
            }
        }
        Probe probe = new Probe();

        assertThat(probe.call()).isEqualTo(ExitCodes.OK);
        probe.failure = new IllegalStateException("boom");
        assertThatThrownBy(probe::call).isSameAs(probe.failure);
        assertThat(probe.runs).isEqualTo(2);
    }

    @Test
    void theClientIsBuiltOnlyWhenACommandAsksForIt() {
        // A broken --url is a usage error only for commands that talk to xenopsd.
        Result clientOnly = CliRun.withoutEnv().run("--url", "bogus://", "version", "--client");
        Result health = CliRun.withoutEnv().run("--url", "bogus://", "health");

        assertThat(clientOnly.exitCode()).as(clientOnly.toString()).isEqualTo(ExitCodes.OK);
        assertThat(health.exitCode()).as(health.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(health.err()).startsWith("xenopsctl: invalid xenopsd URL 'bogus://'");
    }
}
