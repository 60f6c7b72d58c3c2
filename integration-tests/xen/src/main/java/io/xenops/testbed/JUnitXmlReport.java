package io.xenops.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * Reads the legacy JUnit XML reports (TEST-*.xml) that the JUnit Platform ConsoleLauncher writes
 * inside dom0, so the host can replay each in-dom0 test as a test of its own.
 */
public final class JUnitXmlReport {

    private JUnitXmlReport() {
    }

    /** Every testcase in every TEST-*.xml directly under {@code reportsDir}, in file order. */
    public static List<Dom0TestCase> read(Path reportsDir) {
        List<Dom0TestCase> cases = new ArrayList<>();
        try (var files = Files.list(reportsDir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().matches("TEST-.*\\.xml")).sorted().toList()) {
                cases.addAll(parse(file));
            }
        } catch (IOException e) {
            throw new TestbedException("cannot read JUnit reports in " + reportsDir, e);
        }
        return cases;
    }

    static List<Dom0TestCase> parse(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in);
        } catch (IOException | SAXException | ParserConfigurationException e) {
            throw new TestbedException("cannot parse JUnit report " + file, e);
        }
    }

    static List<Dom0TestCase> parse(InputStream in) throws IOException, SAXException, ParserConfigurationException {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        // The report comes from inside a test VM: no external entities, no DTD fetches.
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        DocumentBuilder builder = factory.newDocumentBuilder();
        Document doc = builder.parse(in);
        NodeList testcases = doc.getElementsByTagName("testcase");
        List<Dom0TestCase> cases = new ArrayList<>();
        for (int i = 0; i < testcases.getLength(); i++) {
            Element tc = (Element) testcases.item(i);
            cases.add(new Dom0TestCase(tc.getAttribute("classname"), tc.getAttribute("name"), seconds(tc.getAttribute("time")),
                    outcome(tc), text(tc, "system-out") + text(tc, "system-err")));
        }
        return cases;
    }

    private static Dom0TestCase.Outcome outcome(Element tc) {
        for (String kind : List.of("failure", "error")) {
            Element e = child(tc, kind);
            if (e != null) {
                return new Dom0TestCase.Failed(kind, e.getAttribute("type"), e.getAttribute("message"), e.getTextContent());
            }
        }
        Element skipped = child(tc, "skipped");
        if (skipped != null) {
            String reason = skipped.getAttribute("message");
            return new Dom0TestCase.Skipped(reason.isEmpty() ? skipped.getTextContent().strip() : reason);
        }
        return new Dom0TestCase.Passed();
    }

    private static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? "" : e.getTextContent();
    }

    private static Duration seconds(String value) {
        try {
            return Duration.ofNanos(Math.round(Double.parseDouble(value.replace(",", "")) * 1e9));
        } catch (NumberFormatException e) {
            return Duration.ZERO;
        }
    }
}
