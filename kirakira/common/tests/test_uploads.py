"""An upload larger than any form accepts is not written to disk in full, and the form still
learns its real size."""

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.test import RequestFactory

from kirakira.common.uploads import CappedTemporaryFileUploadHandler


def test_a_file_over_the_cap_keeps_one_byte_more_than_the_cap_and_its_real_size(settings):
    settings.UPLOAD_FILE_MAX_BYTES = 1000
    handler = CappedTemporaryFileUploadHandler(RequestFactory().post("/"))
    handler.new_file("file", "big.png", "image/png", 5000)
    for start in range(0, 5000, 700):
        handler.receive_data_chunk(b"x" * min(700, 5000 - start), start)
    uploaded = handler.file_complete(5000)
    assert isinstance(uploaded, TemporaryUploadedFile)
    assert uploaded.size == 5000
    assert len(uploaded.read()) == 1001
    uploaded.close()


def test_a_file_within_the_cap_is_kept_whole(settings):
    settings.UPLOAD_FILE_MAX_BYTES = 1000
    handler = CappedTemporaryFileUploadHandler(RequestFactory().post("/"))
    handler.new_file("file", "small.png", "image/png", 900)
    handler.receive_data_chunk(b"a" * 500, 0)
    handler.receive_data_chunk(b"b" * 400, 500)
    uploaded = handler.file_complete(900)
    assert uploaded.read() == b"a" * 500 + b"b" * 400
    uploaded.close()


def test_the_site_uses_the_capped_handler(settings):
    assert "kirakira.common.uploads.CappedTemporaryFileUploadHandler" in settings.FILE_UPLOAD_HANDLERS
