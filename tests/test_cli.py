"""The `fieldvisit` command against the test database: migrations, the demo seed and the case file import."""

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import cli
from api.models.cases import DebtCase
from api.models.users import Role
from tests.factories import make_branch, make_user
from tests.test_case_import_files import to_xlsx

CSV = (
    "case_reference,debtor_name,debtor_id_number,amount_owed,overdue_bucket,complaint_history,address_kind,address\n"
    "CLI-1,王芳,11010519491231002X,5000.00,M3,no,home,上海市徐汇区漕溪北路1号\n"
)


def test_db_downgrade_and_upgrade(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["db", "downgrade", "base"]).exit_code == 0
    result = runner.invoke(cli, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_demo_seed_prints_the_logins_once(runner: CliRunner) -> None:
    first = runner.invoke(cli, ["demo", "seed"])
    again = runner.invoke(cli, ["demo", "seed"])

    assert first.exit_code == 0, first.output
    assert first.output.startswith("Seeded") and "supervisor" in first.output and "fieldvisit-demo" in first.output
    assert again.exit_code == 0 and again.output.startswith("Already seeded")


def test_import_cases_all_or_nothing(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    supervisor = make_user(session, Role.SUPERVISOR, make_branch(session))
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(CSV, encoding="utf-8")
    bad.write_text(CSV.replace("CLI-1", "CLI-2") + CSV.replace("CLI-1", "CLI-3").replace("M3", "M9"), encoding="utf-8")

    imported = runner.invoke(cli, ["import", "cases", str(good), "--as", supervisor.username])
    refused = runner.invoke(cli, ["import", "cases", str(bad), "--as", supervisor.username])

    assert imported.exit_code == 0, imported.output
    assert refused.exit_code == 1
    assert "row 2, overdue_bucket" in refused.output
    references = set(session.scalars(select(DebtCase.reference)))
    assert references == {"CLI-1"}
    assert session.scalar(select(func.count()).select_from(DebtCase)) == 1


def test_import_reads_a_gbk_csv_and_an_xlsx_workbook(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    supervisor = make_user(session, Role.SUPERVISOR, make_branch(session))
    gbk, workbook = tmp_path / "from-excel.csv", tmp_path / "cases.xlsx"
    gbk.write_bytes(CSV.encode("gbk"))
    header, values = (line.split(",") for line in CSV.replace("CLI-1", "CLI-2").splitlines())
    workbook.write_bytes(to_xlsx([values], header))

    from_gbk = runner.invoke(cli, ["import", "cases", str(gbk), "--as", supervisor.username])
    from_xlsx = runner.invoke(cli, ["import", "cases", str(workbook), "--as", supervisor.username])

    assert from_gbk.exit_code == 0, from_gbk.output
    assert from_xlsx.exit_code == 0, from_xlsx.output
    assert "'file_format': 'csv-gb18030'" in from_gbk.output and "'file_format': 'xlsx'" in from_xlsx.output
    assert set(session.scalars(select(DebtCase.debtor_name))) == {"王芳"}
    assert set(session.scalars(select(DebtCase.reference))) == {"CLI-1", "CLI-2"}


def test_import_refuses_an_unreadable_file_clearly(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    supervisor = make_user(session, Role.SUPERVISOR, make_branch(session))
    old_excel = tmp_path / "cases.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))

    refused = runner.invoke(cli, ["import", "cases", str(old_excel), "--as", supervisor.username])

    assert refused.exit_code == 1
    assert "Excel 97-2003 (.xls)" in refused.output
    assert session.scalar(select(func.count()).select_from(DebtCase)) == 0


def test_import_names_the_column_of_a_header_error(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    supervisor = make_user(session, Role.SUPERVISOR, make_branch(session))
    file = tmp_path / "cases.csv"
    header, *rows = CSV.splitlines()
    file.write_text("\n".join([header + ",colour", *(row + ",red" for row in rows)]) + "\n", encoding="utf-8")

    refused = runner.invoke(cli, ["import", "cases", str(file), "--as", supervisor.username])

    assert refused.exit_code == 1
    assert "header, colour: unknown column" in refused.output


def test_import_refuses_someone_who_may_not_import(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    agent = make_user(session, Role.AGENT)
    file = tmp_path / "cases.csv"
    file.write_text(CSV, encoding="utf-8")

    result = runner.invoke(cli, ["import", "cases", str(file), "--as", agent.username])

    assert result.exit_code == 1
    assert "No active supervisor or admin" in result.output
