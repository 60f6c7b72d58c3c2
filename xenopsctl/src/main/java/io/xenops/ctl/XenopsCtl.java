package io.xenops.ctl;

import io.xenops.ctl.api.ApiClient;
import io.xenops.ctl.api.JsonCodec;
import io.xenops.ctl.cmd.ConsoleCommand;
import io.xenops.ctl.cmd.DestroyCommand;
import io.xenops.ctl.cmd.HealthCommand;
import io.xenops.ctl.cmd.ImageCommand;
import io.xenops.ctl.cmd.ImagesCommand;
import io.xenops.ctl.cmd.InvokeCommand;
import io.xenops.ctl.cmd.LsCommand;
import io.xenops.ctl.cmd.PoolCommand;
import io.xenops.ctl.cmd.ShowCommand;
import io.xenops.ctl.cmd.SpawnCommand;
import io.xenops.ctl.cmd.VersionCommand;
import io.xenops.ctl.cmd.XenStoreCommand;
import io.xenops.ctl.render.JsonRenderer;
import io.xenops.ctl.render.Renderer;
import io.xenops.ctl.render.TableRenderer;

import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The top-level command. It owns the options every subcommand shares and builds, on first use,
 * the one {@link ApiClient} and {@link Renderer} of this run; subcommands reach them through
 * {@code @ParentCommand}, so nothing is static.
 */
@Command(name = "xenopsctl",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        scope = ScopeType.INHERIT,
        usageHelpAutoWidth = true,
        description = "Spawn and manage unikernel VMs on xenopsd, over its REST API.",
        subcommands = {SpawnCommand.class, LsCommand.class, ShowCommand.class, DestroyCommand.class,
                ConsoleCommand.class, InvokeCommand.class, PoolCommand.class, ImageCommand.class,
                ImagesCommand.class, XenStoreCommand.class, HealthCommand.class,
                VersionCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nEnvironment:%n",
        footer = {
                "  XENOPS_URL     xenopsd's address when --url is not given",
                "  XENOPS_TOKEN   bearer token when --token-file is not given",
                "  XENOPS_DEBUG   set to print stack traces of internal errors",
                "",
                "Exit codes:",
                "  0  ok",
                "  1  xenopsd answered with an error (its title/detail is printed)",
                "  2  usage error",
                "  3  xenopsd not reachable"})
public final class XenopsCtl implements Callable<Integer>, AutoCloseable {
    public static final String DEFAULT_URL = "http://127.0.0.1:8470";
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    @Option(names = "--url", paramLabel = "URL", scope = ScopeType.INHERIT,
            description = {"xenopsd's address.", "Default: $XENOPS_URL, else " + DEFAULT_URL})
    String url;

    @Option(names = "--token-file", paramLabel = "PATH", scope = ScopeType.INHERIT,
            description = {"File holding the bearer token to send.", "Default: the token in $XENOPS_TOKEN"})
    Path tokenFile;

    @Option(names = "--json", scope = ScopeType.INHERIT,
            description = "Print the API's JSON instead of tables (indented).")
    boolean json;

    @Option(names = "--compact", scope = ScopeType.INHERIT,
            description = "With JSON output, one line per document (implies --json).")
    boolean compact;

    @Spec
    CommandSpec spec;

    private final Map<String, String> env;
    private final Clock clock;
    private ApiClient api;
    private Renderer renderer;

    /**
     * @param env   the process environment (injected so tests need not mutate the real one)
     * @param clock for VM ages in tables
     */
    public XenopsCtl(Map<String, String> env, Clock clock) {
        this.env = Map.copyOf(env);
        this.clock = clock;
    }

    @Override
    public Integer call() {
        // No subcommand: show what there is to do, as a usage error so scripts notice.
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    /** The API client for this run, built from --url/--token-file or the environment. */
    public ApiClient api() {
        if (api == null) {
            URI base = baseUri();
            api = new ApiClient(ApiClient.defaultHttpClient(base, CONNECT_TIMEOUT), base, token(),
                    "xenopsctl/" + Version.current(), REQUEST_TIMEOUT, new JsonCodec());
        }
        return api;
    }

    public Renderer renderer() {
        if (renderer == null) {
            renderer = json || compact ? new JsonRenderer(out(), !compact) : new TableRenderer(out(), clock);
        }
        return renderer;
    }

    public PrintWriter out() {
        return spec.commandLine().getOut();
    }

    public boolean jsonOutput() {
        return json || compact;
    }

    /**
     * Whether progress may be drawn with carriage returns. Since JDK 22 System.console() exists even
     * when redirected, so isTerminal() is what tells a person's terminal from a log file.
     */
    public boolean stderrIsTerminal() {
        Console console = System.console();
        return console != null && console.isTerminal();
    }

    /** The whole environment, for libraries that look things up themselves (XENSTORED_PATH). */
    public Map<String, String> env() {
        return env;
    }

    public String env(String name) {
        return env.get(name);
    }

    @Override
    public void close() {
        if (api != null) {
            api.close();
        }
    }

    private URI baseUri() {
        String raw = url != null ? url : env.getOrDefault("XENOPS_URL", DEFAULT_URL);
        if (raw.isBlank()) {
            raw = DEFAULT_URL;
        }
        URI uri;
        try {
            uri = new URI(raw.strip());
        } catch (URISyntaxException e) {
            throw usage("invalid xenopsd URL '" + raw + "': " + e.getReason());
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null
                || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw usage("invalid xenopsd URL '" + raw + "': expected http://HOST:PORT");
        }
        return uri;
    }

    private String token() {
        String token;
        String source;
        if (tokenFile != null) {
            source = "token file " + tokenFile;
            try {
                token = Files.readString(tokenFile).strip();
            } catch (IOException e) {
                throw usage("cannot read token file " + tokenFile + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : " " + e.getMessage()));
            }
            if (token.isEmpty()) {
                throw usage("token file " + tokenFile + " is empty");
            }
        } else {
            token = env.get("XENOPS_TOKEN");
            source = "XENOPS_TOKEN";
            if (token == null || token.isBlank()) {
                return null;
            }
            token = token.strip();
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            // Bearer tokens are printable ASCII; anything else would corrupt the header.
            if (c <= 0x20 || c >= 0x7f) {
                throw usage(source + " holds a character a bearer token cannot contain");
            }
        }
        return token;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
