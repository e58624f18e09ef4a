module github.com/deb2fs/deb2fs

go 1.26.0
