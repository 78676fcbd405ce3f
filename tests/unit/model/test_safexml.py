"""Hostile or broken XML: refused with a clear message, nothing resolved from disk or network."""

import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfconsole.cli import main
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec, XMLInputError
from rfconsole.model.safexml import MAX_XML_BYTES, read_untrusted_file
from rfconsole.model.schema import schema_problems

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<domain type="kvm"><name>&lol9;</name></domain>
"""

PASSWD = """<?xml version="1.0"?>
<!DOCTYPE domain [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<domain type="kvm"><name>&secret;</name></domain>
"""


class Listener:
    """A TCP port that records whether anything connected to it."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(1)
        self.socket.settimeout(0.3)
        self.port = self.socket.getsockname()[1]
        self.connected = False

    def check(self):
        try:
            connection, _ = self.socket.accept()
            connection.close()
            self.connected = True
        except OSError:
            pass
        self.socket.close()


@pytest.fixture
def listener():
    return Listener()


def refused(data, source="hostile.xml") -> XMLInputError:
    with pytest.raises(XMLInputError) as caught:
        DomainDocument.parse(data, source)
    return caught.value


def test_billion_laughs_is_refused():
    error = refused(BILLION_LAUGHS)
    assert "DOCTYPE" in error.message and "hostile.xml" in error.message


def test_billion_laughs_in_utf16_is_refused():
    assert "DOCTYPE" in refused(BILLION_LAUGHS.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")).message


def test_external_entity_to_etc_passwd_is_refused_and_not_read():
    error = refused(PASSWD)
    assert "root:" not in error.message and "DOCTYPE" in error.message


def test_external_dtd_over_http_is_refused_and_never_fetched(listener):
    data = f'<?xml version="1.0"?>\n<!DOCTYPE domain SYSTEM "http://127.0.0.1:{listener.port}/domain.dtd">\n<domain type="kvm"/>'
    thread = threading.Thread(target=listener.check)
    thread.start()
    error = refused(data)
    thread.join()
    assert "DOCTYPE" in error.message
    assert not listener.connected


def test_undeclared_entity_is_a_syntax_error():
    assert "not well-formed" in refused("<domain type='kvm'><name>&x;</name></domain>").message


def test_a_50_mib_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.write(b"<domain>")
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(XMLInputError) as caught:
        read_untrusted_file(big)
    assert "too big" in caught.value.message and "52428800 bytes" in caught.value.message


def test_an_oversized_string_is_refused():
    assert "too big" in refused("<domain>" + " " * MAX_XML_BYTES + "</domain>").message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"not xml at all", "not well-formed"),
        (b"<domain><name>x</domain>", "not well-formed"),
        (b"<network/>", "not a libvirt domain"),
        (b"\xff\xfe\x00garbage", "XML"),
    ],
)
def test_broken_input_says_what_is_wrong(data, words):
    assert words in refused(data).message


@pytest.mark.parametrize(
    "payload",
    [BILLION_LAUGHS, PASSWD, '<!DOCTYPE domain SYSTEM "http://127.0.0.1:9/x.dtd"><domain/>'],
    ids=["billion-laughs", "passwd", "external-dtd"],
)
def test_cli_refuses_hostile_files_with_exit_1(tmp_path, capsys, payload):
    hostile = tmp_path / "hostile.xml"
    hostile.write_text(payload)
    assert main(["--workdir", str(tmp_path), "xml", "validate", str(hostile)]) == 1
    assert main(["--workdir", str(tmp_path), "xml", "show", str(hostile)]) == 1
    assert main(["--workdir", str(tmp_path), "xml", "set", str(hostile), "vcpu=2"]) == 1
    output = capsys.readouterr()
    assert "DOCTYPE" in output.out + output.err and "Traceback" not in output.err
    assert "root:" not in output.out + output.err


def test_cli_refuses_a_50_mib_file_with_exit_1(tmp_path, capsys):
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    assert main(["--workdir", str(tmp_path), "xml", "validate", str(big)]) == 1
    assert "too big" in capsys.readouterr().out


VALID = b"""<domain type='qemu'><name>q</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>/k</kernel></os><devices><console type='pty'/></devices></domain>"""


def _only_our_errors(data: bytes) -> None:
    try:
        document = DomainDocument.parse(data)
    except XMLInputError:
        return
    try:
        document.spec()
    except InvalidSpec:
        pass
    assert isinstance(schema_problems(document), list)
    document.to_xml()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_raise_nothing_but_our_errors(data):
    _only_our_errors(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID)), st.integers(0, 8), st.binary(max_size=6)), max_size=6))
def test_mangled_domain_xml_raises_nothing_but_our_errors(edits):
    data = bytearray(VALID)
    for position, deleted, inserted in edits:
        position = min(position, len(data))
        data[position : position + deleted] = inserted
    _only_our_errors(bytes(data))


def test_non_ascii_element_names_are_handled_by_every_step():
    """Found by the fuzzer: an unknown element with a non-ASCII name inside <devices>."""
    _only_our_errors(VALID.replace(b"<console", "<\u00c0console".encode()))
    _only_our_errors(VALID.replace(b"<console", "<\u0132console".encode()))


def test_a_comment_mentioning_a_doctype_is_fine():
    document = DomainDocument.parse(b"<!-- no <!DOCTYPE here, nor <!ENTITY x> -->\n" + VALID)
    assert document.name == "q" and "<!DOCTYPE" in document.to_xml()


def test_a_doctype_hidden_behind_a_processing_instruction_is_refused():
    sneaky = b'<?pi <!-- ?><!DOCTYPE d [<!ENTITY x "y">]><!-- -->' + VALID
    assert "DOCTYPE" in refused(sneaky).message
    after_a_comment = b"<!-- note -->\n<!DOCTYPE d [<!ENTITY x 'y'>]>" + VALID
    assert "DOCTYPE" in refused(after_a_comment).message
